"""Closing the modality gap (paper B §5, appendices I and L).

Every method maps a pair of clouds to a new pair. The inputs are the dictionary's reconstructions
Î = decode(Z_I), T̂ = decode(Z_T) (N, d) and, for the concept-based method, the bimodal-only
reconstructions Ĩ = decode(Z_I ⊙ δ), T̃ = decode(Z_T ⊙ δ). Paper B works on reconstructions
"for fairness of comparison, as SAEs never perfectly reconstruct activations"; so do we, for
every method and baseline (table 12's "unchanged" row is (Î, T̂)).

All means come from the training split (``GapReference.fit``), as the paper does when it
transfers to COCO and ImageNet: μ_Î, μ_T̂, Δ = μ_T̂ − μ_Î.

| name          | image                         | text                          | paper              |
|---------------|-------------------------------|-------------------------------|--------------------|
| reconstructed | Î                             | T̂                             | (Î, T̂), unchanged  |
| bimodal       | Ĩ                             | T̃                             | ours               |
| centre        | Î − μ_Î                       | T̂ − μ_T̂                       | I_center, base. A  |
| random        | Î − μ_Î + r                   | T̂ − μ_T̂ + r                   | I_rand             |
| shift         | Î − μ_Î + (μ_Î + μ_T̂)/2       | T̂ − μ_T̂ + (μ_Î + μ_T̂)/2       | Liang et al.       |
| project_means | Î − (Î·m̂_I) m̂_I               | T̂ − (T̂·m̂_T) m̂_T               | baseline B         |
| project_delta | Î − (Î·Δ̂) Δ̂                   | T̂ − (T̂·Δ̂) Δ̂                   | baseline C         |
| schrodi       | Î with coordinates S zeroed   | T̂ with coordinates S zeroed   | Schrodi et al.     |

r is a seeded unit vector drawn uniformly from the sphere — truly random, not a copy of the shift
(the authors' published code returned the shift for its "random" baseline). m̂ and Δ̂ are the
normalised means. S is the smallest set of canonical coordinates whose squared mean differences
carry at least ``schrodi_share`` of ‖Δ‖² (Schrodi et al. 2025: a few coordinates carry most of
the gap); projecting onto the orthogonal complement of span(e_j, j ∈ S) zeroes them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Clouds = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class GapInputs:
    """The four reconstructions of one split, each (N, d): Î, T̂, Ĩ, T̃."""

    image: np.ndarray
    text: np.ndarray
    image_bimodal: np.ndarray
    text_bimodal: np.ndarray


@dataclass(frozen=True)
class GapReference:
    """What the methods learn from the training split: μ_Î, μ_T̂ (d,), the random direction r
    (d,, unit norm) and Schrodi et al.'s coordinates S (indices into d)."""

    image_mean: np.ndarray
    text_mean: np.ndarray
    random_direction: np.ndarray
    schrodi_coordinates: np.ndarray

    @property
    def delta(self) -> np.ndarray:
        """Δ = μ_T̂ − μ_Î (d,)."""
        return self.text_mean - self.image_mean

    @classmethod
    def fit(cls, image: np.ndarray, text: np.ndarray, seed: int, schrodi_share: float = 0.5
            ) -> GapReference:
        """Means of the training reconstructions Î, T̂ (N, d), r from ``seed``, and S."""
        image_mean = np.asarray(image, dtype=np.float64).mean(0)
        text_mean = np.asarray(text, dtype=np.float64).mean(0)
        return cls(image_mean, text_mean, random_unit_vector(len(image_mean), seed),
                   schrodi_coordinates(text_mean - image_mean, schrodi_share))


def random_unit_vector(d: int, seed: int) -> np.ndarray:
    """A point drawn uniformly from the unit sphere in R^d (normalised standard normal)."""
    vector = np.random.default_rng(seed).standard_normal(d)
    return vector / np.linalg.norm(vector)


def schrodi_coordinates(delta: np.ndarray, share: float) -> np.ndarray:
    """Indices of the fewest coordinates j, by decreasing Δ_j², with Σ_S Δ_j² ≥ share · ‖Δ‖²."""
    if not 0.0 < share <= 1.0:
        raise ValueError(f"schrodi_share must be in (0, 1], got {share}")
    order = np.argsort(-np.square(delta), kind="stable")
    cumulative = np.cumsum(np.square(delta[order]))
    count = int(np.searchsorted(cumulative, share * cumulative[-1] * (1 - 1e-12))) + 1
    return np.sort(order[:count])


def project_out(x: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """x − (x · u) u for the unit vector u = direction / ‖direction‖; x (N, d)."""
    unit = direction / np.linalg.norm(direction)
    return x - np.outer(x @ unit, unit)


def _reconstructed(inputs: GapInputs, reference: GapReference) -> Clouds:
    return inputs.image, inputs.text


def _bimodal(inputs: GapInputs, reference: GapReference) -> Clouds:
    return inputs.image_bimodal, inputs.text_bimodal


def _centre(inputs: GapInputs, reference: GapReference) -> Clouds:
    return inputs.image - reference.image_mean, inputs.text - reference.text_mean


def _recentre_at(inputs: GapInputs, reference: GapReference, centre: np.ndarray) -> Clouds:
    image, text = _centre(inputs, reference)
    return image + centre, text + centre


def _random(inputs: GapInputs, reference: GapReference) -> Clouds:
    return _recentre_at(inputs, reference, reference.random_direction)


def _shift(inputs: GapInputs, reference: GapReference) -> Clouds:
    return _recentre_at(inputs, reference, (reference.image_mean + reference.text_mean) / 2)


def _project_means(inputs: GapInputs, reference: GapReference) -> Clouds:
    return (project_out(inputs.image, reference.image_mean),
            project_out(inputs.text, reference.text_mean))


def _project_delta(inputs: GapInputs, reference: GapReference) -> Clouds:
    return project_out(inputs.image, reference.delta), project_out(inputs.text, reference.delta)


def _schrodi(inputs: GapInputs, reference: GapReference) -> Clouds:
    image, text = inputs.image.copy(), inputs.text.copy()
    image[:, reference.schrodi_coordinates] = 0.0
    text[:, reference.schrodi_coordinates] = 0.0
    return image, text


GAP_METHODS: dict[str, Callable[[GapInputs, GapReference], Clouds]] = {
    "reconstructed": _reconstructed,
    "bimodal": _bimodal,
    "centre": _centre,
    "random": _random,
    "shift": _shift,
    "project_means": _project_means,
    "project_delta": _project_delta,
    "schrodi": _schrodi,
}


def remove_gap(method: str, inputs: GapInputs, reference: GapReference) -> Clouds:
    """The (image, text) clouds (N, d) after ``method`` (a key of ``GAP_METHODS``)."""
    if method not in GAP_METHODS:
        raise ValueError(f"unknown gap-removal method {method!r}; choose one of "
                         f"{sorted(GAP_METHODS)}")
    image, text = GAP_METHODS[method](inputs, reference)
    return np.asarray(image, dtype=np.float32), np.asarray(text, dtype=np.float32)
