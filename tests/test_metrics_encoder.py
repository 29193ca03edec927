"""recall@k, zero-shot accuracy and the difference of means on hand-made cases."""

import numpy as np
import pytest
import torch

from crossmodal.metrics.gap import difference_of_means
from crossmodal.metrics.retrieval import batch_indices, correct_ranks, recall_at_k
from crossmodal.metrics.zeroshot import (
    class_embeddings,
    marginal_predict,
    prompt_embeddings,
    zero_shot_accuracy,
)


def test_recall_is_one_for_identical_sets():
    x = np.random.default_rng(0).normal(size=(300, 16))
    assert recall_at_k(x, x, ks=(1,), batch_size=100)[1] == 1.0


def test_recall_is_one_over_b_in_expectation_for_random_sets():
    rng = np.random.default_rng(0)
    image, text = rng.normal(size=(20000, 8)), rng.normal(size=(20000, 8))
    recall = recall_at_k(image, text, ks=(1, 5), batch_size=50)
    assert recall[1] == pytest.approx(1 / 50, abs=0.005)
    assert recall[5] == pytest.approx(5 / 50, abs=0.01)


def test_ranks_on_a_hand_made_batch():
    image = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    text = torch.tensor([[1.0, 0.1], [1.0, 0.0], [1.0, 1.0]])
    # image 0 best matches text 1 (cos 1) before its own text 0 (cos 0.995): rank 1
    # image 1 → text 2 (0.707) beats text 0 (0.0995) and its own text 1 (0): rank 2
    assert correct_ranks(image, text).tolist() == [1, 2, 0]
    recall = recall_at_k(image, text, ks=(1,), batch_size=3)[1]
    text_ranks = correct_ranks(text, image).tolist()
    assert recall == pytest.approx((1 + sum(r < 1 for r in text_ranks)) / 6)


def test_batches_are_full_and_cover_once():
    batches = batch_indices(1000, 256, seed=0)
    assert [len(b) for b in batches] == [256, 256, 256]
    assert len(set(np.concatenate(batches))) == 768
    assert len(batch_indices(10, 256, 0)[0]) == 10


def test_difference_of_means_hand_computed():
    image = np.array([[2.0, 0.0], [0.0, 3.0]])  # mean (1, 1.5): the rows as given
    text = np.array([[-1.0, 0.0], [-5.0, 0.0]])  # mean (-3, 0)
    assert difference_of_means(image, text) == pytest.approx(np.hypot(4.0, 1.5))
    assert difference_of_means(image, image) == 0.0


def test_zero_shot_with_a_lookup_encoder():
    table = {"red": [1.0, 0.0], "dark red": [0.9, 0.1], "blue": [0.0, 1.0]}

    def encode(texts):
        return torch.tensor([table[t] for t in texts])

    names, classes = class_embeddings(encode, {"red": ["red", "dark red"], "blue": ["blue"]})
    assert names == ["red", "blue"]
    assert torch.allclose(classes.norm(dim=1), torch.ones(2))
    images = np.array([[1.0, 0.2], [0.1, 1.0], [0.6, 0.5]])
    assert zero_shot_accuracy(images, ["red", "blue", "blue"], names, classes) == pytest.approx(
        2 / 3
    )


def test_marginal_readout_sums_over_each_class_prompts():
    # class "a" has three prompts at cos 0.6 each, class "b" one prompt at cos 0.7:
    # the marginal with s = 10 picks "a" because 3·e^6 > e^7 (3 > e), and with s = 100 picks
    # "b" because 3·e^60 < e^70.
    image = torch.tensor([[1.0, 0.0, 0.0]])
    a1 = torch.tensor([0.6, 0.8, 0.0])
    a2 = torch.tensor([0.6, 0.0, 0.8])
    b = torch.tensor([0.7, (1 - 0.49) ** 0.5, 0.0])
    a3 = torch.tensor([0.6, -0.8, 0.0])
    prompt_sets = [torch.stack([a1, a2, a3]), b.unsqueeze(0)]
    assert marginal_predict(image, ["a", "b"], prompt_sets, 10.0).tolist() == ["a"]
    assert marginal_predict(image, ["a", "b"], prompt_sets, 100.0).tolist() == ["b"]


def test_prompt_embeddings_are_unit_norm_per_class():
    table = {"x": [3.0, 4.0], "y": [0.0, 2.0]}
    names, sets = prompt_embeddings(
        lambda texts: torch.tensor([table[t] for t in texts]),
        {"first": ["x", "y"], "second": ["y"]},
    )
    assert names == ["first", "second"] and sets[0].shape == (2, 2)
    assert torch.allclose(sets[0][0], torch.tensor([0.6, 0.8]))


def test_gap_half_width_is_zero_for_a_constant_shift_and_grows_with_spread():
    from crossmodal.encoder_quality import gap_half_width

    text = np.random.default_rng(0).normal(size=(50, 4))
    shifted = text + np.array([1.0, 0.0, 0.0, 0.0])  # every pair differs by the same vector
    assert gap_half_width(shifted, text, seed=0, resamples=50) == pytest.approx(0.0, abs=1e-12)
    noisy = shifted + np.random.default_rng(1).normal(scale=0.5, size=(50, 4))
    # the mean difference's noise: about 1.96 · 0.5 / √50 ≈ 0.14 along each axis
    assert 0.05 < gap_half_width(noisy, text, seed=0, resamples=200) < 0.4
