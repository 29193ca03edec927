"""Per-latent energies, activation frequencies and the modality score μ (paper B).

E_img[k] = mean_n Z_I[n, k]²,  E_txt[k] likewise,  E[k] = (E_img[k] + E_txt[k]) / 2,
μ[k] = E_img[k] / (E_img[k] + E_txt[k]) — 1 = image-only, 0 = text-only, ½ = iso-energy.
Latents whose energy is below ``dead_energy`` in both modalities are dead: μ is NaN for them.
Bimodal mask: τ ≤ μ ≤ 1 − τ (τ = 0.05 by default); groups image (μ > 1 − τ), text (μ < τ),
bimodal, dead.
"""

from __future__ import annotations

import numpy as np

DEAD_ENERGY = 1e-10
TAU = 0.05


def energies(codes: np.ndarray) -> np.ndarray:
    """(K,) mean squared activation of each latent over the rows of ``codes`` (N, K)."""
    codes = np.asarray(codes, dtype=np.float64)
    return (codes ** 2).mean(0)


def frequencies(codes: np.ndarray) -> np.ndarray:
    """(K,) share of rows on which each latent is non-zero."""
    return (np.asarray(codes) != 0).mean(0)


def modality_score(image_energy: np.ndarray, text_energy: np.ndarray,
                   dead_energy: float = DEAD_ENERGY) -> np.ndarray:
    """(K,) μ = E_img / (E_img + E_txt); NaN where the latent is dead in both modalities."""
    total = image_energy + text_energy
    dead = total <= 2 * dead_energy
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(dead, np.nan, image_energy / np.where(dead, 1.0, total))


def modality_groups(mu: np.ndarray, tau: float = TAU) -> np.ndarray:
    """(K,) "image" (μ > 1 − τ), "text" (μ < τ), "bimodal" (τ ≤ μ ≤ 1 − τ) or "dead" (μ NaN)."""
    groups = np.full(mu.shape, "dead", dtype=object)
    live = ~np.isnan(mu)
    groups[live] = "bimodal"
    groups[live & (mu > 1 - tau)] = "image"
    groups[live & (mu < tau)] = "text"
    return groups


def bimodal_mask(mu: np.ndarray, tau: float = TAU) -> np.ndarray:
    """(K,) True where τ ≤ μ ≤ 1 − τ (dead latents are False)."""
    return (mu >= tau) & (mu <= 1 - tau)


def bimodal_energy_share(image_energy: np.ndarray, text_energy: np.ndarray, tau: float = TAU,
                         strict: bool = False) -> float:
    """ε = Σ_{bimodal} E_i / Σ E_i of per-modality energies (K,), E = (E_img + E_txt)/2; bimodal
    τ ≤ μ ≤ 1 − τ, or τ < μ < 1 − τ when ``strict`` (0 when there is no energy at all)."""
    mu = modality_score(image_energy, text_energy)
    bimodal = (mu > tau) & (mu < 1 - tau) if strict else bimodal_mask(mu, tau)
    energy = (image_energy + text_energy) / 2
    return float(energy[bimodal].sum() / max(energy.sum(), 1e-12))
