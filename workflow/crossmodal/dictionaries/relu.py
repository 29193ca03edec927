"""ReLU SAE (Bricken et al. 2023): z = ReLU(W_enc(x − b_pre) + b_enc), sparsity from an L1 penalty
λ·mean_b ‖z‖₁ (atoms are unit norm, so no decoder-norm weighting is needed)."""

from __future__ import annotations

import torch

from crossmodal.dictionaries.linear_sae import LinearSAE


class ReLUSAE(LinearSAE):
    method = "relu"

    def __init__(
        self,
        d: int,
        n_latents: int,
        l1_coefficient: float = 1e-3,
        pre_bias_init: str = "mean",
        seed: int = 0,
    ):
        super().__init__(d, n_latents, pre_bias_init, seed)
        self.l1_coefficient = l1_coefficient

    def activate(self, pre: torch.Tensor) -> torch.Tensor:
        return torch.relu(pre)

    def auxiliary_loss(self, x: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        return self.l1_coefficient * codes.abs().sum(-1).mean()

    def hyperparameters(self) -> dict:
        return {**super().hyperparameters(), "l1_coefficient": self.l1_coefficient}
