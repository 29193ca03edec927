"""Reconstruction and per-latent statistics of a trained dictionary, streamed over batches.

Nothing of size (N, K) is held: each batch of pairs is encoded, its contribution to the sums is
added, and the codes are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from crossmodal.dictionaries.base import Dictionary
from crossmodal.modality.energy import bimodal_mask, modality_score

DEGENERATE_FREQUENCY = 0.99


@dataclass(frozen=True)
class CodeStatistics:
    """Per-latent (K,) energies E[z²] and firing frequencies P(z ≠ 0) of each modality, and the
    reconstruction MSE = E‖x − x̂‖² and per-instance R² (paper B E.2.1) over both modalities."""

    image_energy: np.ndarray
    text_energy: np.ndarray
    image_frequency: np.ndarray
    text_frequency: np.ndarray
    mse: float
    r2: float


def _device(model: Dictionary) -> torch.device:
    return next(iter(model.parameters()), torch.zeros(())).device


@torch.no_grad()
def encode_in_batches(model: Dictionary, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """(N, K) codes of (N, d) embeddings (dense: use for small N only)."""
    device = _device(model)
    out = [model.encode(torch.as_tensor(x[i:i + batch_size], device=device)).cpu()
           for i in range(0, len(x), batch_size)]
    return torch.cat(out).numpy()


@torch.no_grad()
def code_statistics(model: Dictionary, image: np.ndarray, text: np.ndarray,
                    batch_size: int = 4096) -> CodeStatistics:
    """Stream (N, d) paired embeddings through ``model`` (in eval mode) and return its
    :class:`CodeStatistics`; x̄ for R² is the mean of all 2N rows."""
    model.eval()
    device = _device(model)
    mean = torch.as_tensor(np.concatenate([image.mean(0), text.mean(0)]).reshape(2, -1).mean(0),
                           device=device)
    sums = {}
    residual_total, r2_total = 0.0, 0.0
    for name, x_all in (("image", image), ("text", text)):
        energy = torch.zeros(model.n_latents, dtype=torch.float64, device=device)
        count = torch.zeros(model.n_latents, dtype=torch.float64, device=device)
        for start in range(0, len(x_all), batch_size):
            x = torch.as_tensor(x_all[start:start + batch_size], device=device)
            codes = model.encode(x)
            energy += codes.double().square().sum(0)
            count += (codes != 0).sum(0)
            if model.has_decoder:
                residual = (x - model.decode(codes)).double().square().sum(-1)
                spread = (x - mean).double().square().sum(-1).clamp_min(1e-12)
                residual_total += float(residual.sum())
                r2_total += float((1 - residual / spread).sum())
        sums[name] = (energy / len(x_all)).cpu().numpy(), (count / len(x_all)).cpu().numpy()
    rows = len(image) + len(text)
    has_decoder = model.has_decoder
    return CodeStatistics(
        image_energy=sums["image"][0], text_energy=sums["text"][0],
        image_frequency=sums["image"][1], text_frequency=sums["text"][1],
        mse=residual_total / rows if has_decoder else float("nan"),
        r2=r2_total / rows if has_decoder else float("nan"),
    )


def energy_shares(statistics: CodeStatistics, tau: float = 0.05) -> dict[str, float]:
    """Share of the total energy E = (E_img + E_txt)/2 held by bimodal latents (τ ≤ μ ≤ 1−τ) and by
    degenerate ones (active on ≥ 99 % of the samples of both modalities; paper B figure 8)."""
    total = (statistics.image_energy + statistics.text_energy) / 2
    mu = modality_score(statistics.image_energy, statistics.text_energy)
    degenerate = ((statistics.image_frequency >= DEGENERATE_FREQUENCY)
                  & (statistics.text_frequency >= DEGENERATE_FREQUENCY))
    denominator = max(total.sum(), 1e-12)
    return {"bimodal_energy_share": float(total[bimodal_mask(mu, tau)].sum() / denominator),
            "degenerate_energy_share": float(total[degenerate].sum() / denominator)}
