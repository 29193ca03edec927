"""TopK SAE (Gao et al. 2025): keep the k largest pre-activations of each sample.

Π(x) = x ⊙ 1{i ∈ argtop_k(x)}, followed by ReLU so codes are non-negative. With
``n_latents = d`` and k = 32 this is paper A's Multimodal TopK SAE (one SAE shared by both
modalities, z = TopK(W_enc(x − b_pre)), x̂ = W_dec z + b_pre, loss ‖x − x̂‖², eq. 2).

``dead_revival_coefficient`` α adds paper B's authors' dead-latent revival term
−α · d · mean_{n,i}(pre[n, i] · dead[i]) (pre (b, K), dead (K,) = latents silent on the batch;
:meth:`SelectingSAE.dead_revival_loss`): their TopK criterion with α = 1e-3, the factor d because
their MSE is averaged over d and ours summed. Default 0 (off); paper A's Multimodal TopK SAE keeps
α = 0. Gao et al.'s AuxK (as overcomplete implements it) raised the dead share here
(benchmarks/dead_latents.py), so it is not offered.
"""

from __future__ import annotations

import torch

from crossmodal.dictionaries.selecting_sae import SelectingSAE


class TopKSAE(SelectingSAE):
    method = "topk"

    def __init__(self, d: int, n_latents: int, k: int, pre_bias_init: str = "mean", seed: int = 0,
                 dead_revival_coefficient: float = 0.0):
        if not 0 < k <= n_latents:
            raise ValueError(f"k = {k} must be in 1..n_latents = {n_latents}")
        super().__init__(d, n_latents, pre_bias_init, seed, dead_revival_coefficient)
        self.k = k

    def support(self, pre: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        latents = pre.topk(self.k, dim=-1).indices
        rows = torch.arange(pre.shape[0], device=pre.device).repeat_interleave(self.k)
        return rows, latents.reshape(-1)

    def hyperparameters(self) -> dict:
        return {**super().hyperparameters(), "k": self.k}
