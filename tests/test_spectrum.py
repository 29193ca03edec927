"""Ranks of a large PSD matrix without its eigendecomposition (crossmodal.geometry.spectrum)."""

from __future__ import annotations

import math

import pytest
import torch

from crossmodal.geometry.ranks import effective_rank, stable_rank
from crossmodal.geometry.spectrum import (
    lanczos_tridiagonal,
    largest_eigenvalue,
    psd_ranks,
    quadrature_trace,
    x_log_x,
)


def _coactivation_like(size: int, rows: int = 4000, active: int = 6, seed: int = 0):
    """A normalised Zᵀ Z of sparse non-negative codes (PSD, unit diagonal)."""
    generator = torch.Generator().manual_seed(seed)
    codes = torch.zeros(rows, size, dtype=torch.float64)
    codes.scatter_(1, torch.randint(0, size, (rows, active), generator=generator),
                   torch.rand(rows, active, generator=generator, dtype=torch.float64))
    gram = codes.T @ codes
    scale = gram.diagonal().sqrt()
    return gram / scale[:, None] / scale[None, :]


def test_largest_eigenvalue_by_hand():
    assert largest_eigenvalue(torch.tensor([[2.0, 1.0], [1.0, 2.0]], dtype=torch.float64)) == \
        pytest.approx(3.0)


def test_x_log_x_is_zero_at_zero():
    values = x_log_x(torch.tensor([0.0, 1.0, math.e], dtype=torch.float64))
    assert values.tolist() == pytest.approx([0.0, 0.0, math.e])


def test_lanczos_reproduces_a_diagonal_spectrum_exactly():
    # a 5 × 5 diagonal matrix: 5 Lanczos steps span the space, the Ritz values are its entries
    matrix = torch.diag(torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0], dtype=torch.float64))
    alpha, beta = lanczos_tridiagonal(matrix, torch.ones(5, 1, dtype=torch.float64), 5)
    tridiagonal = torch.diag(alpha[0]) + torch.diag(beta[0], 1) + torch.diag(beta[0], -1)
    assert torch.linalg.eigvalsh(tridiagonal).tolist() == pytest.approx([1, 2, 3, 4, 5])


def test_quadrature_is_exact_for_the_trace_of_the_matrix_itself():
    # vᵀ A v is reproduced exactly by Lanczos quadrature; Hutchinson's mean is then unbiased
    matrix = _coactivation_like(60)
    estimate, error = quadrature_trace(matrix, lambda x: x, probes=200, steps=10)
    assert abs(estimate - 60.0) < 4 * error + 1e-9  # tr = 60 (unit diagonal)


def test_exact_path_matches_the_dense_ranks():
    matrix = _coactivation_like(80)
    ranks = psd_ranks(matrix)
    assert ranks.method == "exact" and ranks.effective_error == 0
    assert ranks.stable == pytest.approx(stable_rank(matrix, symmetric=True))
    assert ranks.effective == pytest.approx(effective_rank(matrix, symmetric=True))


def test_estimated_ranks_are_within_their_error_of_the_exact_ones():
    matrix = _coactivation_like(600)
    exact = psd_ranks(matrix)
    estimated = psd_ranks(matrix, exact_max=0, probes=24, steps=40)
    assert estimated.method == "lanczos+slq"
    assert estimated.stable == pytest.approx(exact.stable, rel=1e-9)  # exact, not estimated
    assert abs(estimated.effective - exact.effective) < 3 * estimated.effective_error
    assert estimated.effective_error < 0.02 * exact.effective
    assert psd_ranks(matrix, exact_max=0, probes=24, steps=40) == estimated  # seeded
