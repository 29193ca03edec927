"""Structure of a dictionary D (K, d): spectral ranks, coherence and the atoms' cosines (paper B E.2.1).

* StableRank(M) = ‖M‖_F² / ‖M‖_2² = Σ σ_i² / σ_max²;
* EffectiveRank(M) = exp(H(p)), H(p) = −Σ p_i log p_i, p_i = σ_i / Σ_j σ_j, zero σ dropped;
* Coherence(D) = max_{i≠j} cos(D_i, D_j), signed as in the paper, zero atoms ignored;
* energy-weighted ranks: the ranks of diag(√E) D (K, d) with E = (E_img + E_txt)/2 (K,), whose
  second moment (√E D)ᵀ(√E D) = Σ_k E_k D_kᵀ D_k is the energy-weighted second moment of the atoms
  — the directions the dictionary actually spends energy on.

All cosines between atoms (coherence here, negative interference, bridges and the transport cost
elsewhere) are those of the unit-norm atoms D̄: D̄ D̄ᵀ equals D Dᵀ for the unit-norm atoms of the
SAEs, and stays a cosine for dictionaries that do not normalise their atoms. The (K, K) products
W ⊙ D̄ D̄ᵀ are formed in row blocks (peak memory block_size·K entries). Computing the cosines only
at W's non-zeros (W is sparse for sparse codes) was measured slower than the dense blocks down to
~0.3 % density (K = 32768, d = 256, 2 cores): the gathers are memory-bound, the block product is
BLAS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np
import torch

BLOCK_SIZE = 4096


def _tensor(matrix) -> torch.Tensor:
    return torch.as_tensor(matrix)


def singular_values(matrix, symmetric: bool = False) -> torch.Tensor:
    """(min(m, n),) float64 singular values of ``matrix`` (m, n); for a symmetric matrix the
    absolute eigenvalues (``eigvalsh``, several times cheaper than an SVD)."""
    matrix = _tensor(matrix).double()
    if symmetric:
        return torch.linalg.eigvalsh(matrix).abs()
    return torch.linalg.svdvals(matrix)


def stable_rank_of_spectrum(sigma: torch.Tensor) -> float:
    """Σ σ_i² / max σ_i² of singular values ``sigma`` (n,); NaN for a zero matrix."""
    largest = float(sigma.max()) if sigma.numel() else 0.0
    return float(sigma.square().sum()) / largest ** 2 if largest > 0 else float("nan")


def effective_rank_of_spectrum(sigma: torch.Tensor) -> float:
    """exp(−Σ p_i log p_i), p_i = σ_i / Σ σ_j over the non-zero singular values ``sigma`` (n,)."""
    sigma = sigma[sigma > 0]
    if sigma.numel() == 0:
        return float("nan")
    p = sigma / sigma.sum()
    return float(torch.exp(-(p * p.log()).sum()))


def stable_rank(matrix, symmetric: bool = False) -> float:
    """StableRank(M) = ‖M‖_F² / ‖M‖_2² of ``matrix`` (m, n)."""
    return stable_rank_of_spectrum(singular_values(matrix, symmetric))


def effective_rank(matrix, symmetric: bool = False) -> float:
    """EffectiveRank(M) = exp(H(σ / Σσ)) of ``matrix`` (m, n)."""
    return effective_rank_of_spectrum(singular_values(matrix, symmetric))


def energy_weighted(atoms, energy) -> torch.Tensor:
    """diag(√E) D (K, d): atoms (K, d) scaled by the square root of their energies E (K,)."""
    atoms = _tensor(atoms).double()
    energy = torch.as_tensor(np.asarray(energy, dtype=np.float64), device=atoms.device)
    return atoms * energy.clamp_min(0).sqrt()[:, None]


def unit_atoms(atoms) -> torch.Tensor:
    """(K, d) atoms scaled to unit L2 norm; zero atoms stay zero."""
    atoms = _tensor(atoms)
    norms = atoms.norm(dim=1, keepdim=True)
    return atoms / torch.where(norms > 0, norms, torch.ones_like(norms))


def cosine_blocks(atoms, block_size: int = BLOCK_SIZE
                  ) -> Iterator[tuple[slice, torch.Tensor]]:
    """Row blocks ``(rows, D̄[rows] D̄ᵀ)`` of the (K, K) atom cosine matrix, each (≤ block_size, K),
    in the atoms' dtype and device (zero atoms give zero cosines)."""
    unit = unit_atoms(atoms)
    for start in range(0, len(unit), block_size):
        rows = slice(start, min(start + block_size, len(unit)))
        yield rows, unit[rows] @ unit.T


def weighted_cosine_blocks(weights: torch.Tensor, atoms, block_size: int = BLOCK_SIZE
                           ) -> Iterator[tuple[slice, torch.Tensor]]:
    """Row blocks ``(rows, (W ⊙ D̄ D̄ᵀ)[rows])`` (≤ block_size, K) of weights W (K, K) and atoms
    (K, d), each a new tensor in W's dtype and device."""
    atoms = torch.as_tensor(atoms).to(weights)
    for rows, cosines in cosine_blocks(atoms, block_size):
        yield rows, cosines.mul_(weights[rows])


def atom_cosines(atoms) -> torch.Tensor:
    """(K, K) cosine matrix D̄ D̄ᵀ (dense: for small K and figures)."""
    return torch.cat([block for _, block in cosine_blocks(atoms)])


def coherence(atoms, block_size: int = BLOCK_SIZE) -> float:
    """max_{i≠j} cos(D_i, D_j) over the non-zero atoms of ``atoms`` (K, d); NaN with < 2 of them."""
    dead = _tensor(atoms).norm(dim=1) == 0
    best = -float("inf")
    for rows, cosines in cosine_blocks(atoms, block_size):
        index = torch.arange(rows.start, rows.stop, device=cosines.device)
        cosines[index - rows.start, index] = -float("inf")
        if bool(dead.any()):
            cosines[:, dead] = -float("inf")
            cosines[dead[rows]] = -float("inf")
        best = max(best, float(cosines.max()))
    return best if best > -float("inf") else float("nan")


def _bin_of(flat: torch.Tensor, low: float, scale: float, bins: int) -> torch.Tensor:
    """Bin index ⌊(x − low)·scale⌋ clamped to 0 … bins − 1: non-decreasing in x (IEEE
    subtraction and multiplication round monotonically), so bins hold consecutive ranks."""
    return flat.sub(low).mul_(scale).floor_().clamp_(0, bins - 1).long()


def blockwise_kth_value(blocks: Callable[[], Iterable[torch.Tensor]], k: int, low: float,
                        high: float, bins: int = 1 << 16) -> float:
    """The k-th smallest (1-based) of all entries of the blocks ``blocks()`` yields, whose values
    lie in [low, high], never holding them together: a first pass counts the entries per bin, a
    second keeps those of the bin holding the k-th and selects in them. Exact: the same value as
    ``kthvalue`` of the concatenated entries."""
    scale = bins / (high - low) if high > low else 0.0
    counts = torch.zeros(bins, dtype=torch.int64)
    for block in blocks():
        counts += torch.bincount(_bin_of(block.reshape(-1), low, scale, bins).cpu(),
                                 minlength=bins)
    cumulative = counts.cumsum(0)
    if not 1 <= k <= int(cumulative[-1]):
        raise ValueError(f"k = {k} outside 1..{int(cumulative[-1])} entries")
    chosen = int(torch.searchsorted(cumulative, torch.tensor(k)))
    before = int(cumulative[chosen - 1]) if chosen > 0 else 0
    inside = [block.reshape(-1)[_bin_of(block.reshape(-1), low, scale, bins) == chosen]
              for block in blocks()]
    return float(torch.cat(inside).cpu().kthvalue(k - before).values)


def streamed_quantile_threshold(atoms, q: float, bins: int = 1 << 16,
                                block_size: int = BLOCK_SIZE,
                                dtype: torch.dtype = torch.float64) -> float:
    """``bridge.quantile_threshold(D̄ D̄ᵀ, q)`` — the ⌊q·K²⌋-th smallest entry (at least the 1st)
    of the (K, K) cosine matrix in ``dtype`` — from its row blocks, never holding it
    (:func:`blockwise_kth_value`)."""
    unit = unit_atoms(_tensor(atoms).to(dtype))
    k = max(1, int(q * len(unit) ** 2))
    return blockwise_kth_value(lambda: (block for _, block in cosine_blocks(unit, block_size)),
                               k, -1.0, 1.0, bins)


def matrix_quantile_threshold(matrix: torch.Tensor, q: float, bins: int = 1 << 16,
                              block_size: int = 1024) -> float:
    """``bridge.quantile_threshold(matrix, q)`` — the ⌊q·n⌋-th smallest (at least the 1st) of the
    n entries of ``matrix`` (K, K') — over its row blocks, without the copies ``kthvalue`` makes
    (at K = 32768 in float32 those are 12 GiB)."""
    k = max(1, int(q * matrix.numel()))
    return blockwise_kth_value(
        lambda: (matrix[start:start + block_size] for start in range(0, len(matrix), block_size)),
        k, float(matrix.min()), float(matrix.max()), bins)
