"""The shared skeleton of encoder–decoder SAEs (ReLU, JumpReLU, TopK, BatchTopK).

``pre = W_enc (x − b_pre) + b_enc`` (b, K); each subclass turns ``pre`` into sparse codes with its
own nonlinearity Π (paper B appendix A); ``x̂ = z D + b_pre``. Atoms (rows of D) are kept at unit
norm after every optimiser step, so code magnitudes are comparable across latents and energies
(E[z_k²]) mean the same thing for every method.
"""

from __future__ import annotations

import torch
from torch import nn

from crossmodal.dictionaries.base import AtomDictionary, unit_rows

PRE_BIAS_INITS = ("mean", "zero")


class LinearSAE(AtomDictionary):
    """Linear encoder + nonlinearity + linear unit-norm decoder, with a shared pre-bias."""

    def __init__(self, d: int, n_latents: int, pre_bias_init: str = "mean", seed: int = 0):
        super().__init__(d, n_latents, seed)
        if pre_bias_init not in PRE_BIAS_INITS:
            raise ValueError(f"pre_bias_init {pre_bias_init!r}; choose one of {PRE_BIAS_INITS}")
        self.pre_bias_init = pre_bias_init
        # tied initialisation (Gao et al.): the encoder starts as the decoder's transpose
        self.encoder_weight = nn.Parameter(self.atoms.detach().clone())
        self.encoder_bias = nn.Parameter(torch.zeros(n_latents))

    def pre_activations(self, x: torch.Tensor) -> torch.Tensor:
        """(b, K) affine encoder output before the nonlinearity."""
        return (x - self.pre_bias) @ self.encoder_weight.T + self.encoder_bias

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.activate(self.pre_activations(x))

    def activate(self, pre: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def after_step(self) -> None:
        self.atoms.copy_(unit_rows(self.atoms))

    def initialise(self, x: torch.Tensor, generator: torch.Generator) -> None:
        """``b_pre`` at the data mean (the geometric-median stand-in of Gao et al.) or zero."""
        initialise_pre_bias(self.pre_bias, x, self.pre_bias_init)

    def hyperparameters(self) -> dict:
        return {**super().hyperparameters(), "pre_bias_init": self.pre_bias_init}


def initialise_pre_bias(pre_bias: nn.Parameter, x: torch.Tensor, how: str) -> None:
    with torch.no_grad():
        pre_bias.copy_(x.mean(0) if how == "mean" else torch.zeros_like(pre_bias))
