"""BatchTopK SAE (Bussmann et al. 2024): keep the b·k largest pre-activations of the batch.

In training, the mean L0 over a batch is exactly k while single samples vary. For inference a
running threshold θ replaces the batch: z = pre ⊙ 1{pre > θ}, θ the exponential moving average
of the smallest kept activation of each training batch.

``dead_revival_coefficient`` α adds paper B's authors' dead-latent revival term
−α · d · mean_{n,i}(pre[n, i] · dead[i]) (pre (b, K), dead (K,) = latents silent on the batch;
:meth:`SelectingSAE.dead_revival_loss`): their BatchTopK criterion with α = 1e-3, the factor d
because their MSE is averaged over d and ours summed. Default 0 (off). Gao et al.'s AuxK (as
overcomplete implements it) raised the dead share here (benchmarks/dead_latents.py), so it is not
offered.
"""

from __future__ import annotations

import torch

from crossmodal.dictionaries.selecting_sae import SelectingSAE


class BatchTopKSAE(SelectingSAE):
    method = "batchtopk"

    def __init__(self, d: int, n_latents: int, k: int, threshold_momentum: float = 0.99,
                 pre_bias_init: str = "mean", seed: int = 0, dead_revival_coefficient: float = 0.0):
        if not 0 < k <= n_latents:
            raise ValueError(f"k = {k} must be in 1..n_latents = {n_latents}")
        super().__init__(d, n_latents, pre_bias_init, seed, dead_revival_coefficient)
        self.k = k
        self.threshold_momentum = threshold_momentum
        self.register_buffer("threshold", torch.tensor(-1.0))  # < 0: not yet estimated

    def support(self, pre: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Training: the b·k largest positive entries of the batch (and θ is updated);
        inference: every entry above the running threshold θ. Rows come out ascending."""
        if not self.training:
            return torch.nonzero(pre > self.threshold.clamp_min(0.0), as_tuple=True)
        flat = pre.reshape(-1)
        kept = min(self.k * pre.shape[0], flat.numel())
        # the kept-th largest value; a selection (kthvalue) is ~3× faster than a flat topk
        cutoff = flat.kthvalue(flat.numel() - kept + 1).values
        rows, latents = torch.nonzero((pre >= cutoff) & (pre > 0), as_tuple=True)
        self._update_threshold(pre[rows, latents])
        return rows, latents

    @torch.no_grad()
    def _update_threshold(self, kept_values: torch.Tensor) -> None:
        if kept_values.numel() == 0:
            return
        smallest = kept_values.min()
        if self.threshold < 0:
            self.threshold.copy_(smallest)
        else:
            m = self.threshold_momentum
            self.threshold.mul_(m).add_((1 - m) * smallest)

    def hyperparameters(self) -> dict:
        return {**super().hyperparameters(), "k": self.k,
                "threshold_momentum": self.threshold_momentum}
