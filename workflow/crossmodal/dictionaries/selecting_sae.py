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

Optionally (``dead_revival_coefficient`` α > 0) the dead-latent revival term of paper B's
authors' TopK/BatchTopK criterion (:meth:`SelectingSAE.dead_revival_loss`), which pulls up the
pre-activations of the latents silent on the batch. It needs the dense pre-activations with a
gradient, so it is only computed when α > 0 (one more dense product forward, two in backward);
with α = 0 the loss, gradients and speed are those of the plain SAE. Gao et al.'s AuxK loss (as
overcomplete implements it) was measured to raise the dead share here (benchmarks/dead_latents.py),
so it is not offered.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from crossmodal.dictionaries.linear_sae import LinearSAE


class SelectingSAE(LinearSAE):
    """Linear SAE whose codes are ReLU'd pre-activations on a selected support, with an optional
    dead-latent revival term (``dead_revival_coefficient`` α ≥ 0; 0 = off)."""

    def __init__(self, d: int, n_latents: int, pre_bias_init: str = "mean", seed: int = 0,
                 dead_revival_coefficient: float = 0.0):
        if dead_revival_coefficient < 0:
            raise ValueError(f"dead_revival_coefficient = {dead_revival_coefficient} must be ≥ 0 "
                             "(0 = no dead-latent revival term)")
        super().__init__(d, n_latents, pre_bias_init, seed)
        self.dead_revival_coefficient = float(dead_revival_coefficient)

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
        x_hat = self.decode_support(rows, latents, values, len(x))
        codes = torch.zeros(len(x), self.n_latents, dtype=x.dtype, device=x.device)
        return codes.index_put((rows, latents), values), x_hat

    def decode_support(self, rows: torch.Tensor, latents: torch.Tensor, values: torch.Tensor,
                       n_rows: int) -> torch.Tensor:
        """(n_rows, d) x̂_n = Σ_{i:(n,i)∈S} z[n, i] D_i + b_pre from the support (rows ascending)."""
        offsets = row_offsets(rows, n_rows)
        x_hat = F.embedding_bag(latents, self.atoms, offsets[:-1], mode="sum",
                                per_sample_weights=values)
        return x_hat + self.pre_bias

    def auxiliary_loss(self, x: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """The revival term (see :meth:`dead_revival_loss`) when α > 0, else the base class's zero
        (no dense product)."""
        if self.dead_revival_coefficient == 0:
            return super().auxiliary_loss(x, codes)
        return self.dead_revival_loss(x, codes)

    def dead_revival_loss(self, x: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """Paper B's authors' dead-latent revival term; ``x`` (b, d), ``codes`` (b, K).

        L_rev = −α · d · (1/(b·K)) Σ_{n,i} pre[n, i] · dead[i],   dead[i] = 1{z[n, i] = 0 ∀ n}

        with pre = (x − b_pre) W_encᵀ + b_enc (b, K) the pre-activations before ReLU and selection
        (with gradient) and dead (K,) detached: the latents with no positive code on the batch.
        Minimising it raises their pre-activations until they enter the support; its gradient is
        −α·d/(b·K) per dead entry, i.e. −α·d/(b·K) · Σ_n (x_n − b_pre) for a dead encoder row,
        −α·d/K for its bias, +α·d/K · Σ_{i dead} W_enc[i] for b_pre and zero for everything else.

        The authors' criterion is MSE − α·R with α = 1e-3 and their MSE averaged over the d
        entries; ours is summed over d (and averaged over rows), hence the factor d here so that α
        means what it means in their code.
        """
        dead = ((codes > 0).sum(0) == 0).to(x.dtype)
        revival = (self.pre_activations(x) * dead).mean()
        return -self.dead_revival_coefficient * self.d * revival

    def hyperparameters(self) -> dict:
        return {**super().hyperparameters(),
                "dead_revival_coefficient": self.dead_revival_coefficient}


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
