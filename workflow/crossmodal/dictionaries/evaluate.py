"""Reconstruction and energy summaries of a trained dictionary on paired embeddings."""

from __future__ import annotations

import numpy as np
import torch

from crossmodal.dictionaries.base import Dictionary
from crossmodal.modality.energy import bimodal_mask, energies, frequencies, modality_score

DEGENERATE_FREQUENCY = 0.99


@torch.no_grad()
def encode_in_batches(model: Dictionary, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """(N, K) codes of (N, d) embeddings."""
    device = next(iter(model.parameters()), torch.zeros(())).device
    out = [model.encode(torch.as_tensor(x[i:i + batch_size], device=device)).cpu()
           for i in range(0, len(x), batch_size)]
    return torch.cat(out).numpy()


@torch.no_grad()
def reconstruction(model: Dictionary, codes: np.ndarray, x: np.ndarray) -> dict[str, float]:
    """MSE = E_i ‖x_i − x̂_i‖² and per-instance R² (paper B E.2.1) of codes (N, K) for x (N, d)."""
    x_hat = model.decode(torch.as_tensor(codes)).numpy()
    residual = ((x - x_hat) ** 2).sum(1)
    spread = np.maximum(((x - x.mean(0)) ** 2).sum(1), 1e-12)
    return {"mse": float(residual.mean()), "r2": float((1 - residual / spread).mean())}


def energy_shares(image_codes: np.ndarray, text_codes: np.ndarray, tau: float = 0.05
                  ) -> dict[str, float]:
    """Share of the total energy E = (E_img + E_txt)/2 held by bimodal latents (τ ≤ μ ≤ 1−τ) and by
    degenerate ones (active on ≥ 99 % of the samples of both modalities; paper B figure 8)."""
    image_energy, text_energy = energies(image_codes), energies(text_codes)
    total = (image_energy + text_energy) / 2
    mu = modality_score(image_energy, text_energy)
    degenerate = ((frequencies(image_codes) >= DEGENERATE_FREQUENCY)
                  & (frequencies(text_codes) >= DEGENERATE_FREQUENCY))
    denominator = max(total.sum(), 1e-12)
    return {"bimodal_energy_share": float(total[bimodal_mask(mu, tau)].sum() / denominator),
            "degenerate_energy_share": float(total[degenerate].sum() / denominator)}
