"""SAEs whose nonlinearity selects a support: Π(pre) = ReLU(pre) ⊙ 1{(n, i) ∈ S(pre)}.

TopK (S = each row's k largest) and BatchTopK (S = the batch's b·k largest) keep few latents per
sample, so only the forward product that finds the support needs to be dense:

* encoder: ``pre = (x − b_pre) W_encᵀ + b_enc`` (b, K), S chosen from it, values z = ReLU(pre|_S);
  backward with the (b, K) gradient G held sparse on S: ∂W_enc = Gᵀ (x − b_pre) as a sparse (COO) product,
  ∂(x − b_pre) = G W_enc as an ``embedding_bag`` over S, ∂b_enc = Σ_n G[n];
* decoder: ``x̂_n = Σ_{i:(n,i)∈S} z[n, i] D_i + b_pre`` as an ``embedding_bag`` with per-sample
  weights, whose backward is sparse too.

The loss and every gradient equal those of the dense formula (entries outside S get zero gradient
there as well); a training step costs one (b, d)×(d, K) product plus O(|S|·d) work instead of five
dense products — the sparse trick of Gao et al.'s kernels, written with torch's sparse ops.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from crossmodal.dictionaries.linear_sae import LinearSAE


class SelectingSAE(LinearSAE):
    """Linear SAE whose codes are ReLU'd pre-activations on a selected support."""

    def support(self, pre: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(rows, latents) of the kept entries of ``pre`` (b, K), rows in ascending order."""
        raise NotImplementedError

    def activate(self, pre: torch.Tensor) -> torch.Tensor:
        rows, latents = self.support(pre)
        codes = torch.zeros_like(pre)
        codes[rows, latents] = torch.relu(pre[rows, latents])
        return codes

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Codes (b, K) and reconstruction (b, d), computed sparsely on the support."""
        centred = x - self.pre_bias
        values, rows, latents = _SupportEncoding.apply(
            centred, self.encoder_weight, self.encoder_bias, self.support
        )
        offsets = row_offsets(rows, len(x))
        x_hat = F.embedding_bag(latents, self.atoms, offsets[:-1], mode="sum",
                                per_sample_weights=values)
        codes = torch.zeros(len(x), self.n_latents, dtype=x.dtype, device=x.device)
        return codes.index_put((rows, latents), values), x_hat + self.pre_bias


def row_offsets(rows: torch.Tensor, n_rows: int) -> torch.Tensor:
    """(n_rows + 1,) CSR row pointer of ascending row indices ``rows``."""
    counts = torch.bincount(rows, minlength=n_rows)
    return torch.cat([counts.new_zeros(1), counts.cumsum(0)])


class _SupportEncoding(torch.autograd.Function):
    """values = ReLU(pre[S]) with pre = centred W_encᵀ + b_enc; gradients kept sparse on S."""

    @staticmethod
    def forward(ctx, centred, weight, bias, support):
        pre = torch.addmm(bias, centred, weight.T)
        rows, latents = support(pre)
        values = torch.relu(pre[rows, latents])
        ctx.save_for_backward(centred, weight, rows, latents, values)
        ctx.mark_non_differentiable(rows, latents)
        return values, rows, latents

    @staticmethod
    def backward(ctx, grad_values, _grad_rows, _grad_latents):
        centred, weight, rows, latents, values = ctx.saved_tensors
        grad = grad_values * (values > 0)
        # ∂W_enc = Gᵀ (x − b_pre) with Gᵀ (K, b) sparse on S
        sparse_grad_t = torch.sparse_coo_tensor(
            torch.stack([latents, rows]), grad, (len(weight), len(centred)),
            is_coalesced=False, check_invariants=False,
        )
        grad_weight = torch.sparse.mm(sparse_grad_t, centred)
        grad_bias = torch.zeros(len(weight), dtype=grad.dtype, device=grad.device)
        grad_bias.index_add_(0, latents, grad)
        offsets = row_offsets(rows, len(centred))
        grad_centred = F.embedding_bag(latents, weight, offsets[:-1], mode="sum",
                                       per_sample_weights=grad)
        return grad_centred, grad_weight, grad_bias, None
