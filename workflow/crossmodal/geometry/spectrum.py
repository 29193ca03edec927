"""Stable and effective rank of a large symmetric positive semi-definite matrix without its full
eigendecomposition (the normalised co-activation G̃ = D^{-1/2} Zᵀ Z D^{-1/2}, L × L over the live
latents, at K = 32768).

With λ (L,) the eigenvalues of a PSD matrix A, T = tr A = Σ λ_i and p_i = λ_i / T (the singular
values of A are its eigenvalues):

* StableRank(A) = ‖A‖_F² / λ_max² — exact from the entries (‖A‖_F² = Σ A_ij²) and the largest
  eigenvalue, found by Lanczos (``scipy.sparse.linalg.eigsh``) from matrix products alone;
* EffectiveRank(A) = exp(H(p)), H(p) = −Σ p_i log p_i = log T − tr(A log A) / T, where
  tr(f(A)) for f(x) = x log x is estimated by stochastic Lanczos quadrature (Ubaru, Chen & Saad
  2017): for Rademacher probes v_1..v_P, vᵀ f(A) v ≈ ‖v‖² Σ_j τ_j² f(θ_j), with θ_j the Ritz
  values of an m-step Lanczos run from v and τ_j the first components of their eigenvectors;
  tr f(A) ≈ the mean over probes. Its standard error over the probes, propagated through
  exp(log T − ·/T), is returned beside the estimate.

``psd_ranks`` uses the exact spectrum (``eigvalsh``, O(L³)) up to ``exact_max`` rows and the two
estimators above it. The matrix is only multiplied by blocks of probe vectors, (L, L) @ (L, P).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy.sparse.linalg import LinearOperator, eigsh

from crossmodal.geometry.ranks import effective_rank_of_spectrum, stable_rank_of_spectrum

EXACT_MAX = 8192
PROBES = 32
LANCZOS_STEPS = 64


@dataclass(frozen=True)
class SpectrumRanks:
    """Stable and effective rank; ``effective_error`` the estimator's standard error (0 when
    exact); ``method`` "exact" or "lanczos" (stable) + "slq" (effective)."""

    stable: float
    effective: float
    effective_error: float
    method: str


def largest_eigenvalue(matrix: torch.Tensor, tolerance: float = 1e-8) -> float:
    """λ_max of a symmetric ``matrix`` (L, L) by Lanczos on its products with vectors."""
    size = matrix.shape[0]

    def product(vector: np.ndarray) -> np.ndarray:
        block = torch.as_tensor(vector.reshape(size, -1), dtype=matrix.dtype,
                                device=matrix.device)
        return (matrix @ block).double().cpu().numpy()

    operator = LinearOperator((size, size), matvec=product, matmat=product, dtype=np.float64)
    start = np.ones(size) / math.sqrt(size)  # seeded start: the result does not vary by run
    return float(eigsh(operator, k=1, which="LA", tol=tolerance, v0=start,
                       return_eigenvectors=False)[0])


def lanczos_tridiagonal(matrix: torch.Tensor, probes: torch.Tensor, steps: int
                        ) -> tuple[torch.Tensor, torch.Tensor]:
    """Block of independent Lanczos runs, one per column of ``probes`` (L, P), with full
    reorthogonalisation: the diagonals α (P, m) and off-diagonals β (P, m − 1) of each run's
    tridiagonal matrix (m ≤ ``steps``; a run that exhausts its Krylov space stops early, its
    remaining β are 0 and its α padding is never read)."""
    size, count = probes.shape
    steps = min(steps, size)
    device = matrix.device  # the products run where the matrix is (a GPU when present)
    basis = torch.zeros(steps, size, count, dtype=torch.float64, device=device)
    alpha = torch.zeros(count, steps, dtype=torch.float64, device=device)
    beta = torch.zeros(count, max(steps - 1, 0), dtype=torch.float64, device=device)
    current = probes.to(device).double()
    current = current / current.norm(dim=0, keepdim=True)
    alive = torch.ones(count, dtype=torch.bool, device=device)
    for step in range(steps):
        basis[step] = current
        product = (matrix @ current.to(matrix.dtype)).double()
        alpha[:, step] = (current * product).sum(0)
        # full reorthogonalisation against every earlier basis vector (twice is enough)
        for _ in range(2):
            coefficients = torch.einsum("slc,lc->sc", basis[:step + 1], product)
            product -= torch.einsum("slc,sc->lc", basis[:step + 1], coefficients)
        if step == steps - 1:
            break
        norm = product.norm(dim=0)
        alive &= norm > 1e-10 * alpha[:, : step + 1].abs().max(1).values.clamp_min(1.0)
        beta[:, step] = torch.where(alive, norm, torch.zeros_like(norm))
        current = torch.where(alive, product / norm.clamp_min(1e-300), torch.zeros_like(product))
    return alpha.cpu(), beta.cpu()


def quadrature_trace(matrix: torch.Tensor, function, probes: int = PROBES,
                     steps: int = LANCZOS_STEPS, seed: int = 0) -> tuple[float, float]:
    """Stochastic Lanczos quadrature estimate of tr f(``matrix``) (module docstring) and its
    standard error over ``probes`` Rademacher probes (seeded)."""
    size = matrix.shape[0]
    generator = torch.Generator().manual_seed(seed)
    signs = torch.randint(0, 2, (size, probes), generator=generator).double() * 2 - 1
    alpha, beta = lanczos_tridiagonal(matrix, signs, steps)
    estimates = []
    for run in range(probes):
        m = _run_length(beta[run], alpha.shape[1])
        tridiagonal = torch.diag(alpha[run, :m])
        if m > 1:
            off = beta[run, : m - 1]
            tridiagonal += torch.diag(off, 1) + torch.diag(off, -1)
        ritz, vectors = torch.linalg.eigh(tridiagonal)
        weights = vectors[0].square()
        estimates.append(size * float((weights * function(ritz.clamp_min(0))).sum()))
    values = np.array(estimates)
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(probes))


def _run_length(beta: torch.Tensor, steps: int) -> int:
    """Steps a Lanczos run took: up to its first zero off-diagonal."""
    zero = torch.nonzero(beta == 0)
    return int(zero[0]) + 1 if len(zero) else steps


def x_log_x(values: torch.Tensor) -> torch.Tensor:
    """x log x with 0 log 0 = 0."""
    return torch.where(values > 0, values * values.clamp_min(1e-300).log(),
                       torch.zeros_like(values))


def psd_ranks(matrix: torch.Tensor, exact_max: int = EXACT_MAX, probes: int = PROBES,
              steps: int = LANCZOS_STEPS, seed: int = 0) -> SpectrumRanks:
    """Stable and effective rank of a PSD ``matrix`` (L, L) (module docstring): exact up to
    ``exact_max`` rows, estimated above."""
    if matrix.shape[0] == 0:
        return SpectrumRanks(math.nan, math.nan, math.nan, "exact")
    if matrix.shape[0] <= exact_max:
        spectrum = torch.linalg.eigvalsh(matrix.double()).abs()
        return SpectrumRanks(stable_rank_of_spectrum(spectrum),
                             effective_rank_of_spectrum(spectrum), 0.0, "exact")
    largest = largest_eigenvalue(matrix)
    frobenius = sum(float(block.double().square().sum()) for block in matrix.split(4096))
    trace = float(matrix.diagonal().double().sum())
    entropy_trace, error = quadrature_trace(matrix, x_log_x, probes, steps, seed)
    effective = math.exp(math.log(trace) - entropy_trace / trace)
    return SpectrumRanks(frobenius / largest ** 2, effective, effective * error / trace,
                         "lanczos+slq")
