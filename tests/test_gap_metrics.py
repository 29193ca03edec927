"""Modality-gap measures (DiM, W, sep, RMG, OOD) and exact k-th-NN distances on hand cases."""

import itertools

import numpy as np
import pytest

from crossmodal.metrics.gap import (
    difference_of_means,
    gap_measures,
    linear_separability,
    mean_pairwise_cosine,
    ood_distances,
    ood_score,
    relative_modality_gap,
    threshold_accuracy,
    wasserstein_gap,
)
from crossmodal.metrics.knn import kth_neighbour_distance


def shifted_clouds(n: int, d: int, shift: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two (n, d) Gaussian clouds, the first moved by +shift and the second by −shift on axis 0."""
    rng = np.random.default_rng(seed)
    image, text = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    image[:, 0] += shift
    text[:, 0] -= shift
    return image, text


def unit_rows(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def brute_kth_distance(queries, reference, k, exclude_self=False):
    """k-th smallest ‖q̂ − r̂‖ per query by a full float64 distance matrix."""
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    r = reference / np.linalg.norm(reference, axis=1, keepdims=True)
    distances = np.linalg.norm(q[:, None, :] - r[None, :, :], axis=2)
    if exclude_self:
        np.fill_diagonal(distances, np.inf)
    return np.sort(distances, axis=1)[:, k - 1]


def assert_distances_close(got, want):
    """Equal to 1e-5, except near 0 where sqrt(2 − 2s) of a float32 s ≈ 1 − 6e-8 is ≈ 3.5e-4."""
    far = want > 0.01
    np.testing.assert_allclose(got[far], want[far], atol=1e-5)
    np.testing.assert_allclose(got[~far], want[~far], atol=1e-3)


def brute_threshold_accuracy(query, reference, balanced):
    """Best accuracy over every threshold t ∈ {−∞} ∪ pooled values, rule 'd > t ⇒ query' and its
    flip, by direct counting."""
    best = 0.0
    for t in np.concatenate([[-np.inf], query, reference]):
        query_right, reference_right = np.sum(query > t), np.sum(reference <= t)
        if balanced:
            accuracy = (query_right / len(query) + reference_right / len(reference)) / 2
        else:
            accuracy = (query_right + reference_right) / (len(query) + len(reference))
        best = max(best, accuracy, 1 - accuracy)
    return best


# --- DiM and W ---------------------------------------------------------------------------------

def test_difference_of_means_of_non_unit_clouds_by_hand():
    image = np.array([[2.0, 0.0], [4.0, 0.0]])  # mean (3, 0)
    text = np.array([[0.0, 1.0], [0.0, 3.0]])  # mean (0, 2)
    assert difference_of_means(image, text) == pytest.approx(np.sqrt(13.0))
    assert difference_of_means(image, image) == 0.0


def test_difference_of_means_uses_the_rows_as_given():
    image = np.array([[3.0, 0.0], [0.0, 2.0]])  # mean (1.5, 1); unit rows would give (0.5, 0.5)
    text = np.array([[0.0, -1.0], [0.0, -4.0]])  # mean (0, -2.5); unit rows would give (0, -1)
    assert difference_of_means(image, text) == pytest.approx(np.sqrt(1.5 ** 2 + 3.5 ** 2))
    assert difference_of_means(2.0 * image, 2.0 * text) == pytest.approx(
        2.0 * np.sqrt(1.5 ** 2 + 3.5 ** 2))


def test_difference_of_means_of_centred_clouds_is_zero():
    image, text = shifted_clouds(50, 4, shift=2.0)
    assert difference_of_means(image - image.mean(0), text - text.mean(0)) == pytest.approx(
        0.0, abs=1e-12)


@pytest.mark.filterwarnings("error")
def test_wasserstein_is_zero_for_identical_clouds_and_scale_free():
    x = np.random.default_rng(0).normal(size=(60, 8))
    assert wasserstein_gap(x, x) == pytest.approx(0.0, abs=1e-12)
    assert wasserstein_gap(x, 5.0 * x) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.filterwarnings("error")
def test_wasserstein_two_points_each_by_hand():
    image = np.array([[1.0, 0.0], [0.0, 1.0]])
    text = np.array([[2.0, 0.0], [-1.0, 0.0]])  # unit (1, 0), (-1, 0)
    # cost 1 − cos: I1–T1 0, I1–T2 2, I2–T1 1, I2–T2 1. Uniform 2 × 2 marginals: the optimum is a
    # permutation, identity (0 + 1) / 2 = 0.5 beats the swap (2 + 1) / 2 = 1.5.
    assert wasserstein_gap(image, text) == pytest.approx(0.5)


@pytest.mark.filterwarnings("error")
def test_wasserstein_compares_images_with_texts():
    image, text = shifted_clouds(300, 8, shift=2.0)
    gap = wasserstein_gap(image, text, n_samples=300)
    assert wasserstein_gap(image, image, n_samples=300) == pytest.approx(0.0, abs=1e-12)
    assert gap > 0.3
    # W ≥ DiM(x̂, ŷ)² / 2 since 1 − cos(x, y) = ‖x̂ − ŷ‖² / 2 and W₂² ≥ ‖μ_x̂ − μ_ŷ‖²
    assert gap >= difference_of_means(unit_rows(image), unit_rows(text)) ** 2 / 2


def test_wasserstein_subsample_is_seeded():
    image, text = shifted_clouds(400, 8, shift=1.0)
    first = wasserstein_gap(image, text, n_samples=100, seed=3)
    assert wasserstein_gap(image, text, n_samples=100, seed=3) == first
    assert wasserstein_gap(image, text, n_samples=100, seed=4) != first


# --- linear separability -----------------------------------------------------------------------

def test_separability_is_one_for_disjoint_clouds():
    image, text = shifted_clouds(500, 16, shift=6.0)
    assert linear_separability(image, text) == pytest.approx(1.0)


def test_separability_is_one_half_for_one_distribution():
    image, text = shifted_clouds(1000, 16, shift=0.0)
    assert linear_separability(image, text) == pytest.approx(0.5, abs=0.1)


# --- RMG ---------------------------------------------------------------------------------------

def test_relative_modality_gap_three_pairs_by_hand():
    image = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    text = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, -2.0]])  # unit (1,0), (1,0), (0,-1)
    # d = (1 − cos) / 2. Pairs: cos 1, 0, −0.8 → d 0, 0.5, 0.9 → m = 1.4 / 3.
    # images: cos(x1,x2) 0, cos(x1,x3) 0.6, cos(x2,x3) 0.8 → d 0.5, 0.2, 0.1; ordered sum 1.6.
    # texts:  cos(y1,y2) 1, cos(y1,y3) 0,   cos(y2,y3) 0   → d 0, 0.5, 0.5;   ordered sum 2.0.
    # s = (1.6 + 2.0) / (2 · 3 · 2) = 0.3;  RMG = (1.4/3) / (1.4/3 + 0.3) = 1.4 / 2.3.
    assert relative_modality_gap(image, text) == pytest.approx(1.4 / 2.3)


def test_rmg_spread_in_linear_time_equals_double_loop():
    rng = np.random.default_rng(1)
    image, text = rng.normal(size=(40, 6)) + 1.0, rng.normal(size=(40, 6))
    x = image / np.linalg.norm(image, axis=1, keepdims=True)
    y = text / np.linalg.norm(text, axis=1, keepdims=True)
    n = len(x)
    loop_cos = sum(x[i] @ x[j] for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    assert mean_pairwise_cosine(image) == pytest.approx(loop_cos, rel=1e-12)
    s = sum((1 - x[i] @ x[j]) / 2 + (1 - y[i] @ y[j]) / 2
            for i in range(n) for j in range(n) if i != j) / (2 * n * (n - 1))
    m = np.mean((1 - np.sum(x * y, axis=1)) / 2)
    assert relative_modality_gap(image, text) == pytest.approx(m / (m + s), rel=1e-12)


# --- OOD score ---------------------------------------------------------------------------------

def test_ood_score_is_one_half_for_one_distribution():
    queries, reference = shifted_clouds(1000, 16, shift=0.0, seed=2)
    assert 0.5 <= ood_score(queries, reference) <= 0.6


def test_ood_score_is_one_for_disjoint_clouds():
    queries, reference = shifted_clouds(300, 16, shift=6.0)
    assert ood_score(queries, reference) == 1.0
    query_distances, reference_distances = ood_distances(queries, reference)
    assert query_distances.min() > reference_distances.max()


@pytest.mark.parametrize("balanced", [True, False])
def test_sorted_threshold_accuracy_equals_brute_force(balanced):
    rng = np.random.default_rng(5)
    for trial in range(20):
        query = np.round(rng.normal(0.5 * (trial % 3), 1.0, size=rng.integers(1, 30)), 1)
        reference = np.round(rng.normal(0.0, 1.0, size=rng.integers(1, 30)), 1)  # ties
        assert threshold_accuracy(query, reference, balanced) == pytest.approx(
            brute_threshold_accuracy(query, reference, balanced))


def test_threshold_accuracy_weights_by_count_unless_balanced():
    query, reference = np.array([2.0]), np.array([0.0, 1.0, 3.0])
    # t = 1: reference 0, 1 right, 3 wrong; query 2 right → pooled 3/4, balanced (1 + 2/3)/2
    assert threshold_accuracy(query, reference, balanced=False) == pytest.approx(3 / 4)
    assert threshold_accuracy(query, reference, balanced=True) == pytest.approx(5 / 6)


def test_ood_reference_distances_exclude_self():
    rng = np.random.default_rng(7)
    queries, reference = rng.normal(size=(30, 4)), rng.normal(size=(40, 4))
    query_distances, reference_distances = ood_distances(queries, reference, k=1)
    assert_distances_close(query_distances, brute_kth_distance(queries, reference, 1))
    assert_distances_close(reference_distances,
                           brute_kth_distance(reference, reference, 1, exclude_self=True))
    assert reference_distances.min() > 0.01  # its own row (distance 0) is not its neighbour


def test_gap_measures_ood_has_texts_as_queries_against_images():
    rng = np.random.default_rng(0)
    image, text = rng.normal(size=(300, 8)), rng.normal(size=(300, 8))
    image[:, 0] += 2.5  # a narrow image cone inside a spread-out text cloud: OOD is asymmetric
    measures = gap_measures(image, text, w_samples=50, ood_k=3)
    assert measures["OOD"] == ood_score(text, image, k=3) != ood_score(image, text, k=3)
    assert gap_measures(image, text, w_samples=50)["OOD"] == ood_score(text, image, k=10)
    assert ood_score(text, image, k=10) != ood_score(text, image, k=5)


def test_gap_measures_names_and_ranges():
    image, text = shifted_clouds(200, 8, shift=3.0)
    measures = gap_measures(image, text, w_samples=200)
    assert list(measures) == ["DiM", "W", "sep", "RMG", "OOD"]
    assert measures["sep"] == pytest.approx(1.0) and measures["OOD"] > 0.9
    assert measures["DiM"] == pytest.approx(difference_of_means(image, text))


# --- k-th nearest neighbour --------------------------------------------------------------------

@pytest.mark.parametrize("use_faiss", [False, True])
def test_kth_neighbour_distance_equals_brute_force(use_faiss):
    if use_faiss:
        pytest.importorskip("faiss")
    rng = np.random.default_rng(3)
    queries, reference = rng.normal(size=(100, 8)), rng.normal(size=(600, 8))
    reference[7] = 3.0 * reference[8]  # a duplicate direction counts as another row at distance 0
    for k in (1, 3):
        got = kth_neighbour_distance(queries, reference, k=k, block=32, reference_block=512,
                                     use_faiss=use_faiss, device="cpu")
        assert_distances_close(got, brute_kth_distance(queries, reference, k))
        got = kth_neighbour_distance(reference, reference, k=k, exclude_self=True, block=32,
                                     reference_block=512, use_faiss=use_faiss, device="cpu")
        want = brute_kth_distance(reference, reference, k, exclude_self=True)
        assert_distances_close(got, want)
        if k == 1:  # rows 7 and 8 are each other's nearest other row
            assert want[7] < 1e-12 and got[7] < 1e-3 and got[8] < 1e-3


def test_kth_neighbour_distance_with_many_ties():
    rng = np.random.default_rng(4)
    reference = rng.normal(size=(20, 5))[rng.integers(0, 20, size=2560)]  # 20 rows repeated
    queries = rng.normal(size=(50, 5))
    for k in (1, 10, 40):  # 20 chunks of 64 per block: chunk-maxima shortcut for k < 20
        got = kth_neighbour_distance(queries, reference, k=k, block=16, reference_block=1280,
                                     use_faiss=False, device="cpu")
        assert_distances_close(got, brute_kth_distance(queries, reference, k))


def test_faiss_and_torch_backends_agree():
    pytest.importorskip("faiss")
    rng = np.random.default_rng(6)
    queries, reference = rng.normal(size=(300, 32)), rng.normal(size=(2000, 32))
    for exclude_self, q in ((False, queries), (True, reference)):
        runs = [kth_neighbour_distance(q, reference, k=10, exclude_self=exclude_self,
                                       block=128, reference_block=512, use_faiss=flag,
                                       device="cpu") for flag in (True, False)]
        assert_distances_close(runs[0], runs[1])


def test_kth_neighbour_rejects_bad_input():
    x = np.ones((5, 3))
    with pytest.raises(ValueError, match="at least 6"):
        kth_neighbour_distance(x, x, k=5, exclude_self=True)
    with pytest.raises(ValueError, match="non-zero"):
        kth_neighbour_distance(np.zeros((2, 3)), x, k=1)
    with pytest.raises(ValueError, match="d = 4"):
        kth_neighbour_distance(np.ones((2, 4)), x, k=1)


def test_brute_force_helpers_are_consistent():
    """The test's own brute-force threshold search on a case small enough to enumerate."""
    query, reference = np.array([1.0, 2.0]), np.array([0.0, 3.0])
    rules = itertools.product([-1.0, 0.5, 1.5, 2.5, 4.0], [False, True])
    accuracies = [np.mean(np.concatenate([(query > t) != flip, (reference <= t) != flip]))
                  for t, flip in rules]
    assert brute_threshold_accuracy(query, reference, balanced=False) == max(accuracies) == 0.75
