"""How well a learned dictionary recovers known atoms and codes (paper B appendix C.2).

Both metrics are sign-invariant: Matching Pursuit codes can be negative, so an atom D_i and its
negation −D_i (with negated codes) describe the same concept.

* W(D, W*): exact optimal transport between the learned atoms (K, d) and the true atoms (K*, d),
  uniform weights 1/K and 1/K*, cost C_ij = 1 − |cos(D_i, W*_j)| ∈ [0, 1];
  W = min_{P ∈ U(1/K, 1/K*)} Σ_ij P_ij C_ij (lower is better).
* mma(Z, C): S_ij = |cos(Z_{:,i}, C_{:,j})| between the activation patterns (code columns over
  the same N samples) of learned latent i and true latent j; a maximum-weight bipartite matching
  π of min(K, K*) pairs, mma = mean_{(i,j)∈π} S_ij (higher is better).

Both are means over atoms, which gives their bootstrap (no seed replicas exist for table 5):
mma is the mean of the m matched similarities S_iπ(i) (:func:`matched_similarities`); W = Σ_ij
P_ij C_ij with rows of P summing to 1/K is the mean over the K learned atoms of their transported
costs c_i = K Σ_j P_ij C_ij (:func:`atom_transport_costs`). :func:`atom_half_widths` resamples
these per-atom values with the plan and the matching held fixed: the interval covers how much the
mean moves with the atoms' spread of recovery quality, not training-seed noise nor a re-solved
transport or matching.
"""

from __future__ import annotations

import numpy as np
import ot
from scipy.optimize import linear_sum_assignment

from crossmodal.metrics.uncertainty import LEVEL, RESAMPLES, bootstrap_half_widths

MIN_TRANSPORT_ITERATIONS = 1_000_000


def unit_columns(matrix: np.ndarray) -> np.ndarray:
    """Columns scaled to unit L2 norm; zero columns stay zero."""
    norms = np.linalg.norm(matrix, axis=0, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix, dtype=np.float64),
                     where=norms > 0)


def atom_cost(learned: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(K, K*) cost 1 − |cos(D_i, W*_j)| between the rows of ``learned`` and ``truth``."""
    if learned.ndim != 2 or truth.ndim != 2 or learned.shape[1] != truth.shape[1]:
        raise ValueError(f"atoms {learned.shape} and {truth.shape} must both be (·, d) with "
                         f"the same d")
    cosine = unit_columns(learned.astype(np.float64).T).T @ unit_columns(
        truth.astype(np.float64).T)
    return 1.0 - np.abs(cosine)


def atom_transport_costs(learned: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(K,) c_i = K Σ_j P_ij C_ij of the live learned atoms (rows of ``learned`` (K, d) with
    non-zero norm) under the exact plan P of :func:`atom_wasserstein`; their mean is W."""
    learned = learned[np.linalg.norm(learned, axis=1) > 0]
    cost = atom_cost(learned, truth)
    plan = ot.emd(np.full(cost.shape[0], 1.0 / cost.shape[0]),
                  np.full(cost.shape[1], 1.0 / cost.shape[1]), cost,
                  numItermax=max(MIN_TRANSPORT_ITERATIONS, 100 * cost.size))
    return cost.shape[0] * (plan * cost).sum(1)


def matched_similarities(codes: np.ndarray, truth_codes: np.ndarray) -> np.ndarray:
    """(min(K, K*),) S_iπ(i) of the matching of :func:`matching_accuracy`; their mean is mma."""
    similarity = np.abs(unit_columns(codes.astype(np.float64)).T
                        @ unit_columns(truth_codes.astype(np.float64)))
    learned, true = linear_sum_assignment(similarity, maximize=True)
    return similarity[learned, true]


def atom_half_widths(values: dict[str, np.ndarray], resamples: int = RESAMPLES, seed: int = 0,
                     level: float = LEVEL) -> dict[str, float]:
    """Half-width of the percentile bootstrap interval of the mean of each per-atom array of
    ``values`` (name → (n,)), atoms resampled with replacement (metrics/uncertainty.py)."""
    return {name: bootstrap_half_widths(lambda index, v=v, name=name: {name: v[index].mean()},
                                        len(v), resamples, seed, level)[name]
            for name, v in values.items()}


def atom_wasserstein(learned: np.ndarray, truth: np.ndarray) -> float:
    """Exact OT distance W(D, W*) (module docstring) between ``learned`` (K, d) and ``truth``
    (K*, d); rows of ``learned`` with zero norm (dead atoms) are dropped."""
    learned = learned[np.linalg.norm(learned, axis=1) > 0] if learned.ndim == 2 else learned
    cost = atom_cost(learned, truth)
    if 0 in cost.shape:
        raise ValueError(f"no atoms to compare ({learned.shape[0]} learned, {truth.shape[0]} "
                         f"true after dropping dead atoms)")
    weights_learned = np.full(cost.shape[0], 1.0 / cost.shape[0])
    weights_truth = np.full(cost.shape[1], 1.0 / cost.shape[1])
    iterations = max(MIN_TRANSPORT_ITERATIONS, 100 * cost.size)
    return float(ot.emd2(weights_learned, weights_truth, cost, numItermax=iterations))


def matching_accuracy(codes: np.ndarray, truth_codes: np.ndarray) -> float:
    """mma(Z, C) (module docstring) of ``codes`` (N, K) against ``truth_codes`` (N, K*);
    columns of zeros have similarity 0 with everything."""
    if codes.ndim != 2 or truth_codes.ndim != 2 or codes.shape[0] != truth_codes.shape[0]:
        raise ValueError(f"codes {codes.shape} and {truth_codes.shape} must both be (N, ·) with "
                         f"the same N")
    similarity = np.abs(unit_columns(codes.astype(np.float64)).T
                        @ unit_columns(truth_codes.astype(np.float64)))
    learned, true = linear_sum_assignment(similarity, maximize=True)
    return float(similarity[learned, true].mean())
