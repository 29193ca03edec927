"""BatchTopK SAE (Bussmann et al. 2024): keep the b·k largest pre-activations of the batch.

In training, the mean L0 over a batch is exactly k while single samples vary. For inference a
running threshold θ replaces the batch: z = pre ⊙ 1{pre > θ}, θ the exponential moving average
of the smallest kept activation of each training batch.
"""

from __future__ import annotations

import torch

from crossmodal.dictionaries.linear_sae import LinearSAE


class BatchTopKSAE(LinearSAE):
    method = "batchtopk"

    def __init__(self, d: int, n_latents: int, k: int, threshold_momentum: float = 0.99,
                 pre_bias_init: str = "mean", seed: int = 0):
        if not 0 < k <= n_latents:
            raise ValueError(f"k = {k} must be in 1..n_latents = {n_latents}")
        super().__init__(d, n_latents, pre_bias_init, seed)
        self.k = k
        self.threshold_momentum = threshold_momentum
        self.register_buffer("threshold", torch.tensor(-1.0))  # < 0: not yet estimated

    def activate(self, pre: torch.Tensor) -> torch.Tensor:
        pre = torch.relu(pre)
        if not self.training:
            threshold = self.threshold.clamp_min(0.0)
            return pre * (pre > threshold)
        flat = pre.reshape(-1)
        kept = min(self.k * pre.shape[0], flat.numel())
        values, index = flat.topk(kept)
        codes = torch.zeros_like(flat).scatter_(0, index, values).reshape(pre.shape)
        self._update_threshold(values)
        return codes

    @torch.no_grad()
    def _update_threshold(self, kept_values: torch.Tensor) -> None:
        positive = kept_values[kept_values > 0]
        if positive.numel() == 0:
            return
        smallest = positive.min()
        if self.threshold < 0:
            self.threshold.copy_(smallest)
        else:
            m = self.threshold_momentum
            self.threshold.mul_(m).add_((1 - m) * smallest)

    def hyperparameters(self) -> dict:
        return {**super().hyperparameters(), "k": self.k,
                "threshold_momentum": self.threshold_momentum}
