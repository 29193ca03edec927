"""Co-activation structure of the codes (paper B E.2.1, "Structure in ZᵀZ").

Z (2N, K) stacks the codes of both modalities' rows. The Gram matrix G = Zᵀ Z (K, K) is
accumulated over row batches in float64 (or float32 for very large K); codes are sparse, so each
batch adds only its co-active pairs: for a batch whose rows have at most L non-zeros, G gains
Σ_n Σ_{a,b ≤ L} z[n, i_a] z[n, i_b] at (i_a, i_b) — b·L² scattered products instead of a dense
b·K² product (the dense product is used when L > K/16).

From G:

* normalised co-activation G̃_ij = G_ij / √(G_ii G_jj), i.e. Zᵀ Z with unit-norm columns (dead
  columns → 0), whose stable and effective ranks are reported (ranks.py);
* Connectivity = 1 − ‖Zᵀ Z‖_0 / K², ‖·‖_0 counting non-zero entries (dead latents' rows and
  columns count as zeros). The formula is the paper's; note that its prose calls higher values
  "more combinations", whereas the formula grows with the share of pairs that never co-activate;
* NegativeInterference = ‖ReLU(−G̃ ⊙ D̄ D̄ᵀ)‖_F, on the normalised G̃ (the paper considers Z with
  normalised columns for this whole group) and atom cosines D̄ D̄ᵀ. The paper writes ‖·‖_2; we read
  it as the entrywise L2 (Frobenius) norm: the Hadamard product and the ReLU are entrywise
  operations that destroy the matrix's meaning as a linear map, so an operator (spectral) norm has
  no natural interpretation here, while the entrywise norm is the root of the summed squared
  cancellations between pairs of concepts.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from crossmodal.geometry.ranks import BLOCK_SIZE, weighted_cosine_blocks

SPARSE_WIDTH_RATIO = 16


@dataclass(frozen=True)
class RowSupport:
    """The non-zeros of codes (b, K) row by row: ``values`` and ``latents`` (b, L), L the largest
    count of non-zeros in a row, shorter rows padded with zero values (at latent 0); ``codes`` is
    kept for the dense product."""

    codes: torch.Tensor
    values: torch.Tensor
    latents: torch.Tensor

    @classmethod
    def of(cls, codes: torch.Tensor) -> RowSupport:
        rows, latents = codes.nonzero(as_tuple=True)
        counts = torch.bincount(rows, minlength=len(codes))
        width = int(counts.max()) if len(rows) else 0
        slot = torch.arange(len(rows), device=codes.device) - (counts.cumsum(0) - counts)[rows]
        values = codes.new_zeros(len(codes), width)
        padded = torch.zeros(len(codes), width, dtype=torch.long, device=codes.device)
        values[rows, slot] = codes[rows, latents]
        padded[rows, slot] = latents
        return cls(codes, values, padded)

    @property
    def width(self) -> int:
        return self.values.shape[1]

    @property
    def sparse(self) -> bool:
        """Whether scattering b·L² products beats the dense b·K² product (L ≤ K/16)."""
        return self.width * SPARSE_WIDTH_RATIO <= self.codes.shape[1]


def support_of(codes: torch.Tensor | RowSupport) -> RowSupport:
    return codes if isinstance(codes, RowSupport) else RowSupport.of(codes)


def add_outer_products(total: torch.Tensor, left: torch.Tensor | RowSupport,
                       right: torch.Tensor | RowSupport) -> None:
    """total (K, K') += leftᵀ right for row-paired codes left (b, K), right (b, K') (tensors or
    their :class:`RowSupport`), in place, in ``total``'s dtype; scatters the co-active pairs
    when both are sparse."""
    left = support_of(left)
    right = left if right is left.codes else support_of(right)
    if not (left.sparse and right.sparse):
        total += left.codes.to(total.dtype).T @ right.codes.to(total.dtype)
        return
    products = (left.values.to(total.dtype)[:, :, None]
                * right.values.to(total.dtype)[:, None, :])
    flat = left.latents[:, :, None] * total.shape[1] + right.latents[:, None, :]
    total.view(-1).index_add_(0, flat.reshape(-1), products.reshape(-1))


class Coactivation:
    """Streaming G = Zᵀ Z (K, K): ``update`` with row batches of codes (b, K) of either modality
    (or their :class:`RowSupport`)."""

    def __init__(self, n_latents: int, dtype: torch.dtype = torch.float64,
                 device: torch.device | str | None = None):
        self.gram = torch.zeros(n_latents, n_latents, dtype=dtype, device=device)
        self.rows = 0

    def update(self, codes: torch.Tensor | RowSupport) -> None:
        support = support_of(codes)
        add_outer_products(self.gram, support, support)
        self.rows += len(support.codes)

    def release(self) -> torch.Tensor:
        """G, dropping the accumulator's reference (so that the caller may free it)."""
        gram, self.gram = self.gram, None
        return gram


def coactivation(codes: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """(K, K) float64 Zᵀ Z of codes (n, K), accumulated over row batches."""
    accumulator = Coactivation(codes.shape[1], device=codes.device)
    for start in range(0, len(codes), batch_size):
        accumulator.update(codes[start:start + batch_size])
    return accumulator.gram


def normalise_columns(gram: torch.Tensor, in_place: bool = False) -> torch.Tensor:
    """G̃_ij = G_ij / √(G_ii G_jj) of a Gram matrix G (K, K); rows and columns of dead latents
    (G_ii = 0) are 0. ``in_place`` overwrites ``gram`` (saves a K×K copy for large K)."""
    diagonal = gram.diagonal().clone()
    scale = torch.where(diagonal > 0, diagonal.clamp_min(1e-300).rsqrt(),
                        torch.zeros_like(diagonal))
    out = gram if in_place else gram.clone()
    return out.mul_(scale[:, None]).mul_(scale[None, :])


def connectivity(gram: torch.Tensor) -> float:
    """1 − ‖G‖_0 / K² of a co-activation matrix G (K, K) (raw or normalised: same zeros)."""
    return 1.0 - int(torch.count_nonzero(gram)) / gram.shape[0] ** 2


def negative_interference(normalised_gram: torch.Tensor, atoms: torch.Tensor,
                          block_size: int = BLOCK_SIZE) -> float:
    """‖ReLU(−G̃ ⊙ D̄ D̄ᵀ)‖_F of the normalised co-activation G̃ (K, K) and atoms (K, d),
    over row blocks of the cosines."""
    squares = 0.0
    for _, block in weighted_cosine_blocks(normalised_gram, atoms, block_size):
        squares += float(torch.relu_(block.neg_()).square_().sum(dtype=torch.float64))
    return squares ** 0.5
