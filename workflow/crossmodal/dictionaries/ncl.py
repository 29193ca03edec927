"""Multimodal Non-negative Contrastive Learning (paper A §2.1, eq. 3; Wang et al. 2024).

g(z) = ReLU(W₂ ReLU(LayerNorm(W₁ z + b₁)) + b₂): an MLP whose last ReLU makes the features
non-negative (hence sparse). It is trained with InfoNCE between the paired image and text outputs,

    L = −E log [ exp(g(z_i)ᵀ g(z_t)) / E_{t⁻} exp(g(z_i)ᵀ g(z_t⁻)) ],

with the other captions of the batch as negatives (eq. 3 is image → text; ``symmetric`` adds the
text → image term). NCL has no decoder: its features are the codes.
"""

from __future__ import annotations

import torch
from torch import nn

from crossmodal.dictionaries.base import Dictionary


class MultimodalNCL(Dictionary):
    method = "ncl"
    has_decoder = False

    def __init__(self, d: int, n_latents: int, hidden: int | None = None,
                 symmetric: bool = False, seed: int = 0):
        super().__init__(d, n_latents)
        torch.manual_seed(seed)
        hidden = hidden or n_latents
        self.projector = nn.Sequential(nn.Linear(d, hidden), nn.LayerNorm(hidden), nn.ReLU(),
                                       nn.Linear(hidden, n_latents), nn.ReLU())
        self.hidden = hidden
        self.symmetric = symmetric

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.projector(x)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("NCL features have no decoder")

    def contrastive_loss(self, image_codes: torch.Tensor, text_codes: torch.Tensor) -> torch.Tensor:
        """Eq. 3 on a batch of paired codes (b, K)."""
        logits = image_codes @ text_codes.T
        targets = torch.arange(len(logits), device=logits.device)
        loss = nn.functional.cross_entropy(logits, targets)
        if self.symmetric:
            loss = (loss + nn.functional.cross_entropy(logits.T, targets)) / 2
        return loss

    def hyperparameters(self) -> dict:
        return {**super().hyperparameters(), "hidden": self.hidden, "symmetric": self.symmetric}
