"""Figures of the report: cosine-similarity histograms of paired embeddings (paper B fig. 11)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from crossmodal.report.plotting import plt, save_figure

IMAGE_IMAGE = "image–image"
TEXT_TEXT = "text–text"
RANDOM_IMAGE_TEXT = "random image–text"
MATCHING_IMAGE_TEXT = "matching image–text"
WHITE_NOISE = "white noise (reference)"


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    """(N, d) float64 rows scaled to unit L2 norm (all-zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, np.finfo(np.float64).tiny)


def sample_distinct_pairs(n: int, n_pairs: int, rng: np.random.Generator):
    """Index arrays (i, j), each of shape (m,), of distinct ordered pairs with i != j drawn
    without replacement from the n(n-1) possible ones, m = min(n_pairs, n(n-1))."""
    n_possible = n * (n - 1)
    flat = rng.choice(n_possible, size=min(n_pairs, n_possible), replace=False)
    first, rest = np.divmod(flat, n - 1)
    second = rest + (rest >= first)  # skip the diagonal: j in [0, n) \ {i}
    return first, second


def sample_indices(n: int, n_pairs: int, rng: np.random.Generator) -> np.ndarray:
    """(m,) row indices: all n rows if n <= n_pairs, else n_pairs drawn without replacement."""
    if n <= n_pairs:
        return np.arange(n)
    return np.sort(rng.choice(n, size=n_pairs, replace=False))


def row_cosines(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """(m,) dot products of matching rows of two (m, d) unit-norm arrays, clipped to [-1, 1]."""
    return np.clip(np.einsum("ij,ij->i", left, right), -1.0, 1.0)


def cosine_similarity_samples(images: np.ndarray, texts: np.ndarray, n_pairs: int = 5000,
                              seed: int = 0) -> dict[str, np.ndarray]:
    """Cosine similarities of four populations of pairs from paired (N, d) embeddings (row i of
    ``images`` and ``texts`` is a pair), as in paper B figure 11: image–image and text–text
    (rows i != j of one modality), random image–text (image i, text j != i) and matching
    image–text (image i, text i), plus pairs of isotropic Gaussian vectors in the same dimension
    as the reference the paper draws (cosines ≈ N(0, 1/d)). Each value is a 1-D array of at most
    ``n_pairs`` entries, sampled without replacement with a numpy Generator seeded by ``seed``."""
    images, texts = np.asarray(images), np.asarray(texts)
    if images.ndim != 2 or images.shape != texts.shape:
        raise ValueError(f"images {images.shape} and texts {texts.shape} must both be (N, d)")
    images, texts = normalise_rows(images), normalise_rows(texts)
    n = images.shape[0]
    if n < 2:
        raise ValueError(f"need at least 2 pairs to sample i != j pairs, got {n}")
    rng = np.random.default_rng(seed)
    samples = {}
    for name, left, right in ((IMAGE_IMAGE, images, images), (TEXT_TEXT, texts, texts),
                              (RANDOM_IMAGE_TEXT, images, texts)):
        i, j = sample_distinct_pairs(n, n_pairs, rng)
        samples[name] = row_cosines(left[i], right[j])
    matching = sample_indices(n, n_pairs, rng)
    samples[MATCHING_IMAGE_TEXT] = row_cosines(images[matching], texts[matching])
    noise = normalise_rows(rng.standard_normal((2 * len(matching), images.shape[1])))
    samples[WHITE_NOISE] = row_cosines(noise[::2], noise[1::2])
    return samples


def shared_bins(samples: dict[str, np.ndarray], n_bins: int = 60) -> np.ndarray:
    """(n_bins + 1,) bin edges spanning the range of all samples (padded when degenerate),
    or [-1, 1] when there is no data."""
    values = [np.asarray(v, dtype=np.float64).ravel() for v in samples.values() if np.size(v)]
    if not values:
        return np.linspace(-1.0, 1.0, n_bins + 1)
    low, high = min(v.min() for v in values), max(v.max() for v in values)
    if high - low < 1e-6:
        low, high = low - 0.05, high + 0.05
    return np.linspace(low, high, n_bins + 1)


def plot_similarity_histograms(samples: dict[str, np.ndarray], path: str | Path,
                               title: str) -> None:
    """Overlaid density histograms of each population's cosine similarities on shared bins,
    legend with each population's mean, written atomically to ``path`` as a PNG."""
    bins = shared_bins(samples)
    figure, axes = plt.subplots(figsize=(6.4, 4.0))
    try:
        for name, values in samples.items():
            if np.size(values):
                label = f"{name} (mean {np.mean(values):.3f})"
                axes.hist(values, bins=bins, density=True, alpha=0.5, label=label)
        axes.set_xlabel("cosine similarity")
        axes.set_ylabel("density")
        axes.set_title(title)
        if axes.get_legend_handles_labels()[0]:
            axes.legend(fontsize="small")
        save_figure(figure, path)
    finally:
        plt.close(figure)
