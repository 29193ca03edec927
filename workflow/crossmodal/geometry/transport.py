"""The optimal transport plan between two sets of atoms, exactly, without the dense n × m problem.

FDA transports a (n,) onto b (m,) (Σa = Σb = 1) under the cost C_ij = 1 − cos(D_i, D_j). The
network simplex (``ot.emd``) needs the dense cost and about 50 bytes per arc: 13 GiB at
16384², 52 GiB at 32768². Column generation solves the same linear program exactly on a sparse
set of arcs:

1. candidate arcs: each source's ``neighbours`` most similar targets and each target's most
   similar sources (the optimal plan moves mass between near atoms), plus the n + m − 1 arcs of
   the north-west-corner plan, so that the restricted problem always has a feasible plan; the
   same pass keeps a wider pool (``pool`` nearest per atom) with their costs;
2. solve the transport LP restricted to the arcs with HiGHS (dual simplex, no presolve; later
   rounds start from the previous basis), giving the plan and the duals u (n,), v (m,);
3. price the pool: reduced cost r_ij = C_ij − u_i − v_j; pool arcs with r_ij < −``tolerance``
   join, and back to 2. When the pool has none, price every arc, block by block of the cosine
   matrix. If no r_ij < −``tolerance``, the restricted plan is optimal for the full problem (LP
   optimality conditions). Otherwise the ``entering`` most negative arcs of each row join, and
   back to 2. The pool saves most full passes (each O(n·m·d): 25 s at 32768² on 2 cores).

Each pricing pass also certifies the answer: with the c-transform v'_j = min_i (C_ij − u_i),
(u, v') is feasible for the dual, so a·u + b·v' ≤ OT(a, b) ≤ the restricted plan's cost. The
returned ``gap`` is that difference (float32 pricing: about 1e-7 at convergence).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

NEIGHBOURS = 16
ENTERING = 16
POOL = 128
TOLERANCE = 1e-7
MAX_ROUNDS = 50  # full pricing passes (pool rounds, each adding new pool arcs, are finite)
BLOCK = 4096


@dataclass(frozen=True)
class SparsePlan:
    """The plan's non-zeros: ``rows`` (sources), ``cols`` (targets), ``mass``; its ``cost``
    Σ Γ ⊙ C, the certified ``gap`` to the optimum (≥ 0), and the ``rounds`` (LP solves) it
    took."""

    rows: np.ndarray
    cols: np.ndarray
    mass: np.ndarray
    cost: float
    gap: float
    rounds: int


def _cosines(sources: torch.Tensor, targets: torch.Tensor, start: int) -> torch.Tensor:
    return sources[start:start + BLOCK] @ targets.T


def nearest_arcs(sources: torch.Tensor, targets: torch.Tensor, neighbours: int, pool: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From one pass over the cosines of ``sources`` (n, d) and ``targets`` (m, d) (unit rows):
    the arc ids i·m + j (sorted, unique) of each source's and each target's ``neighbours`` most
    similar atoms on the other side, and the same for the ``pool`` most similar, with their
    float32 cosines."""
    m = len(targets)
    found, pooled, cosines = [], [], []
    for outer, inner, transposed in ((sources, targets, False), (targets, sources, True)):
        width = min(pool, len(inner))
        for start in range(0, len(outer), BLOCK):
            values, best = _cosines(outer, inner, start).topk(width, dim=1)
            own = torch.arange(start, start + len(best))[:, None].expand_as(best)
            ids = best * m + own if transposed else own * m + best
            found.append(ids[:, :neighbours].reshape(-1))
            pooled.append(ids.reshape(-1))
            cosines.append(values.reshape(-1))
    initial = torch.cat(found).unique().numpy().astype(np.int64)
    ids, first = np.unique(torch.cat(pooled).numpy(), return_index=True)
    return initial, ids.astype(np.int64), torch.cat(cosines).numpy()[first]


def northwest_corner_arcs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Arc ids i·m + j of the north-west-corner plan of histograms a (n,), b (m,): a feasible
    plan on at most n + m − 1 arcs."""
    supply_edges, demand_edges = np.cumsum(a), np.cumsum(b)
    supply_edges[-1] = demand_edges[-1] = max(supply_edges[-1], demand_edges[-1])
    # each arc is an interval of the merged cumulative masses: (row, col) of its left end
    cuts = np.unique(np.concatenate([[0.0], supply_edges, demand_edges]))
    mids = (cuts[:-1] + cuts[1:]) / 2
    rows = np.minimum(np.searchsorted(supply_edges, mids), len(a) - 1)
    cols = np.minimum(np.searchsorted(demand_edges, mids), len(b) - 1)
    return np.unique(rows.astype(np.int64) * len(b) + cols)


class _RestrictedProblem:
    """The transport LP on a growing set of arcs, in HiGHS."""

    def __init__(self, a: np.ndarray, b: np.ndarray):
        import highspy

        self.highspy, self.n, self.m = highspy, len(a), len(b)
        self.solver = highspy.Highs()
        self.solver.setOptionValue("output_flag", False)
        self.solver.setOptionValue("random_seed", 0)
        self.solver.setOptionValue("presolve", "off")  # measured 20 % faster on these LPs
        self.solver.setOptionValue("primal_feasibility_tolerance", 1e-10)
        self.solver.setOptionValue("dual_feasibility_tolerance", 1e-10)
        marginals = np.concatenate([a, b]).astype(np.float64)
        self.solver.addRows(len(marginals), marginals, marginals, 0, np.array([], np.int32),
                            np.array([], np.int32), np.array([], np.float64))
        self.arcs = np.zeros(0, dtype=np.int64)

    def add(self, arcs: np.ndarray, costs: np.ndarray) -> None:
        rows, cols = arcs // self.m, arcs % self.m
        count = len(arcs)
        index = np.stack([rows, self.n + cols], 1).reshape(-1).astype(np.int32)
        self.solver.addCols(count, costs.astype(np.float64), np.zeros(count),
                            np.full(count, self.highspy.kHighsInf), 2 * count,
                            np.arange(0, 2 * count, 2, dtype=np.int32), index, np.ones(2 * count))
        self.arcs = np.concatenate([self.arcs, arcs])

    def solve(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """(plan values per arc, u, v, cost) of the restricted LP."""
        self.solver.run()
        status = self.solver.getModelStatus()
        if status != self.highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"HiGHS did not solve the restricted transport: "
                               f"{self.solver.modelStatusToString(status)}")
        solution = self.solver.getSolution()
        duals = np.asarray(solution.row_dual)
        return (np.asarray(solution.col_value), duals[:self.n], duals[self.n:],
                float(self.solver.getInfo().objective_function_value))


def _price(sources: torch.Tensor, targets: torch.Tensor, u: np.ndarray, v: np.ndarray,
           a: np.ndarray, b: np.ndarray, entering: int, tolerance: float
           ) -> tuple[np.ndarray, float]:
    """(arc ids with r_ij < −tolerance, the ``entering`` most negative per row; the certified
    lower bound a·u + b·v')."""
    m = len(targets)
    u_t = torch.as_tensor(u, dtype=sources.dtype)
    v_t = torch.as_tensor(v, dtype=sources.dtype)
    c_transform = torch.full((m,), math.inf, dtype=torch.float64)
    entering_arcs = []
    for start in range(0, len(sources), BLOCK):
        reduced = (1 - _cosines(sources, targets, start)) - u_t[start:start + BLOCK, None]
        c_transform = torch.minimum(c_transform, reduced.min(0).values.double())
        reduced -= v_t[None, :]
        values, best = reduced.topk(min(entering, m), dim=1, largest=False)
        rows, ranks = torch.nonzero(values < -tolerance, as_tuple=True)
        entering_arcs.append((rows + start).long() * m + best[rows, ranks].long())
    lower = float(a @ u + b @ c_transform.numpy())
    return torch.cat(entering_arcs).numpy().astype(np.int64), lower


def _pool_entering(pool: np.ndarray, pool_cost: np.ndarray, u: np.ndarray, v: np.ndarray,
                   m: int, tolerance: float) -> np.ndarray:
    """Pool arcs i·m + j with reduced cost C_ij − u_i − v_j < −tolerance (float32 costs)."""
    reduced = pool_cost - u[pool // m] - v[pool % m]
    return pool[reduced < -tolerance]


def sparse_exact_transport(a: np.ndarray, b: np.ndarray, sources, targets,
                           neighbours: int = NEIGHBOURS, entering: int = ENTERING,
                           tolerance: float = TOLERANCE, max_rounds: int = MAX_ROUNDS,
                           pool: int = POOL) -> SparsePlan:
    """The optimal plan from histogram a (n,) on unit atoms ``sources`` (n, d) to b (m,) on
    ``targets`` (m, d) under C = 1 − cos, by column generation (module docstring); the atoms
    are priced in float32. Between full pricing passes, only the ``pool`` nearest arcs of
    each atom are priced (from their costs kept in memory): a round that finds negative
    reduced costs there skips the O(n·m·d) pass, and the last round is always a full pass,
    which certifies the plan. Raises when ``max_rounds`` full pricing passes leave negative
    reduced costs."""
    sources = torch.as_tensor(sources, dtype=torch.float32)
    targets = torch.as_tensor(targets, dtype=torch.float32)
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    problem = _RestrictedProblem(a, b)
    initial, pool_arcs, pool_cosines = nearest_arcs(sources, targets, neighbours, pool)
    pool_costs = 1.0 - pool_cosines.astype(np.float64)
    arcs = np.union1d(initial, northwest_corner_arcs(a, b))
    solves = full_passes = 0
    while True:
        problem.add(arcs, _arc_costs(sources, targets, arcs))
        values, u, v, cost = problem.solve()
        solves += 1
        # each pool round adds pool arcs not yet in the problem, so pool rounds are finite
        arcs = np.setdiff1d(_pool_entering(pool_arcs, pool_costs, u, v, len(b), tolerance),
                            problem.arcs)
        if len(arcs):
            continue
        arcs, lower = _price(sources, targets, u, v, a, b, entering, tolerance)
        arcs = np.setdiff1d(arcs, problem.arcs, assume_unique=False)
        full_passes += 1
        if len(arcs) == 0:
            support = values > 0
            chosen = problem.arcs[support]
            return SparsePlan(chosen // len(b), chosen % len(b), values[support], cost,
                              max(cost - lower, 0.0), solves)
        if full_passes >= max_rounds:
            raise RuntimeError(f"column generation did not reach optimality in {max_rounds} "
                               "full pricing passes")


def _arc_costs(sources: torch.Tensor, targets: torch.Tensor, arcs: np.ndarray,
               chunk: int = 1 << 16) -> np.ndarray:
    """C_ij = 1 − cos of each arc i·m + j, in float64, ``chunk`` arcs at a time (a million arcs
    of 512-d atoms would otherwise gather 4 GiB per side)."""
    costs = np.empty(len(arcs))
    for start in range(0, len(arcs), chunk):
        part = torch.as_tensor(arcs[start:start + chunk])
        rows, cols = part // len(targets), part % len(targets)
        costs[start:start + chunk] = (1 - (sources[rows].double() * targets[cols].double())
                                      .sum(1)).numpy()
    return costs
