"""Exact optimal transport by column generation (crossmodal.geometry.transport) against the
network simplex, and FDA's large-K path against its dense one."""

from __future__ import annotations

import numpy as np
import ot
import pytest
import torch

from crossmodal.geometry import bridge
from crossmodal.geometry.bridge import fda, quantile_threshold
from crossmodal.geometry.ranks import atom_cosines, streamed_quantile_threshold
from crossmodal.geometry.transport import sparse_exact_transport


def _unit(rows: int, d: int, seed: int) -> torch.Tensor:
    atoms = torch.randn(rows, d, generator=torch.Generator().manual_seed(seed),
                        dtype=torch.float64)
    return atoms / atoms.norm(dim=1, keepdim=True)


def _histogram(size: int, seed: int) -> np.ndarray:
    weights = np.random.default_rng(seed).random(size)
    return weights / weights.sum()


def test_matching_atoms_are_transported_onto_each_other_by_hand():
    atoms = torch.eye(3, dtype=torch.float64)
    plan = sparse_exact_transport(np.array([0.2, 0.3, 0.5]), np.array([0.2, 0.3, 0.5]),
                                  atoms, atoms)
    assert sorted(zip(plan.rows, plan.cols, plan.mass)) == [
        (0, 0, pytest.approx(0.2)), (1, 1, pytest.approx(0.3)), (2, 2, pytest.approx(0.5))]
    assert plan.cost == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(("neighbours", "pool"), [(1, 1), (8, 8), (1, 4), (1, 120)])
def test_column_generation_reaches_the_network_simplex_optimum(neighbours, pool):
    sources, targets = _unit(120, 6, 0), _unit(90, 6, 1)
    a, b = _histogram(120, 2), _histogram(90, 3)
    cost = (1 - sources @ targets.T).numpy()
    exact = ot.emd(a, b, cost)
    # a pool holding every arc leaves nothing to the one full pass allowed but to certify
    max_rounds = 1 if pool >= 120 else 50
    plan = sparse_exact_transport(a, b, sources, targets, neighbours=neighbours, pool=pool,
                                  max_rounds=max_rounds)
    dense = np.zeros_like(exact)
    dense[plan.rows, plan.cols] = plan.mass
    assert plan.cost == pytest.approx(float((exact * cost).sum()), abs=1e-6)
    assert 0 <= plan.gap < 1e-6
    assert np.abs(dense.sum(1) - a).max() < 1e-9 and np.abs(dense.sum(0) - b).max() < 1e-9
    if neighbours == 1:  # one candidate per atom cannot hold the optimum: priced arcs entered
        assert plan.rounds > 1


def test_streamed_quantile_is_the_dense_kthvalue():
    atoms = _unit(70, 5, 4)
    atoms[3] = 0  # a dead atom: zero cosines
    for q in (0.1, 0.5, 0.9, 0.999):
        expected = quantile_threshold(atom_cosines(atoms), q)
        assert streamed_quantile_threshold(atoms, q, bins=16, block_size=32) == expected


@pytest.mark.parametrize("conventions", ["authors", "paper"])
def test_fda_large_path_equals_the_dense_path(monkeypatch, conventions):
    rng = np.random.default_rng(5)
    atoms = _unit(150, 8, 6)
    image_energy, text_energy = rng.random(150), rng.random(150)
    image_energy[:20] *= 0.001  # text-only latents
    text_energy[20:40] *= 0.001  # image-only latents
    image_energy[40] = 0.0  # a source with no mass
    dense = fda(image_energy, text_energy, atoms, conventions=conventions)
    monkeypatch.setattr(bridge, "DENSE_TRANSPORT_ARCS", 0)
    sparse = fda(image_energy, text_energy, atoms, conventions=conventions)
    assert sparse.gap < 1e-6 and dense.gap == 0
    for field in ("alpha", "unimodal", "epsilon", "cost", "fda"):
        assert getattr(sparse, field) == pytest.approx(getattr(dense, field), abs=1e-6), field


def test_northwest_corner_arcs_by_hand():
    from crossmodal.geometry.transport import northwest_corner_arcs

    # a = (0.5, 0.5), b = (0.25, 0.75): (0,0) 0.25, (0,1) 0.25, (1,1) 0.5
    assert northwest_corner_arcs(np.array([0.5, 0.5]), np.array([0.25, 0.75])).tolist() == \
        [0 * 2 + 0, 0 * 2 + 1, 1 * 2 + 1]
