"""JumpReLU SAE (Rajamanoharan et al. 2024): z = pre · H(pre − θ) with a learned threshold θ > 0
per latent (paper B appendix A, eq. 2), sparsity from an L0 penalty λ·mean_b Σ_k H(pre_k − θ_k).

H has no useful gradient, so θ is trained with the straight-through *kernel* estimator of the
paper: the pseudo-derivative of H(u − θ) with respect to θ is −(1/ε) K((u − θ)/ε), K the
rectangle kernel 1{|v| < ½}, ε the bandwidth. The gradient with respect to ``pre`` flows through
the identity part (u · H), as in the original.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from crossmodal.dictionaries.linear_sae import LinearSAE


def _rectangle(v: torch.Tensor) -> torch.Tensor:
    return (v.abs() < 0.5).to(v.dtype)


class _JumpReLU(torch.autograd.Function):
    """u · H(u − θ); d/du = H(u − θ); d/dθ = −(θ/ε) K((u − θ)/ε)."""

    @staticmethod
    def forward(ctx, u, threshold, bandwidth):
        ctx.save_for_backward(u, threshold)
        ctx.bandwidth = bandwidth
        return u * (u > threshold)

    @staticmethod
    def backward(ctx, grad):
        u, threshold = ctx.saved_tensors
        eps = ctx.bandwidth
        grad_u = grad * (u > threshold)
        grad_threshold = -(threshold / eps) * _rectangle((u - threshold) / eps) * grad
        return grad_u, grad_threshold.sum(0), None


class _Step(torch.autograd.Function):
    """H(u − θ); d/dθ = −(1/ε) K((u − θ)/ε); no gradient to u (pass ``u`` detached)."""

    @staticmethod
    def forward(ctx, u, threshold, bandwidth):
        ctx.save_for_backward(u, threshold)
        ctx.bandwidth = bandwidth
        return (u > threshold).to(u.dtype)

    @staticmethod
    def backward(ctx, grad):
        u, threshold = ctx.saved_tensors
        eps = ctx.bandwidth
        grad_threshold = -(1.0 / eps) * _rectangle((u - threshold) / eps) * grad
        return None, grad_threshold.sum(0), None


class JumpReLUSAE(LinearSAE):
    method = "jumprelu"

    def __init__(
        self,
        d: int,
        n_latents: int,
        l0_coefficient: float = 1e-3,
        initial_threshold: float = 0.05,
        bandwidth: float = 0.01,
        pre_bias_init: str = "mean",
        seed: int = 0,
    ):
        super().__init__(d, n_latents, pre_bias_init, seed)
        self.l0_coefficient = l0_coefficient
        self.bandwidth = bandwidth
        self.log_threshold = nn.Parameter(torch.full((n_latents,), math.log(initial_threshold)))

    @property
    def threshold(self) -> torch.Tensor:
        return self.log_threshold.exp()

    def activate(self, pre: torch.Tensor) -> torch.Tensor:
        return _JumpReLU.apply(pre, self.threshold, self.bandwidth)

    def auxiliary_loss(self, x: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        # the L0 term's gradient reaches θ only, so its pre-activations need no graph: this saves
        # the encoder's backward through a zero gradient (same gradients, a 1.3× faster step)
        with torch.no_grad():
            pre = self.pre_activations(x)
        l0 = _Step.apply(pre, self.threshold, self.bandwidth).sum(-1).mean()
        return self.l0_coefficient * l0

    def hyperparameters(self) -> dict:
        return {
            **super().hyperparameters(),
            "l0_coefficient": self.l0_coefficient,
            "bandwidth": self.bandwidth,
        }
