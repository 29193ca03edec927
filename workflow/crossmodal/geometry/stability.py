"""Stability of a dictionary across training seeds (paper B E.2.1 "Consistency", lower = stabler).

Paper B describes stability only as "the average distance between learned dictionaries under
different random seeds". We use the matching-based reading of Fel et al. (2023): for atoms
D (K, d) and D' (K', d), the optimal one-to-one matching π maximising Σ_i |cos(D_i, D'_π(i))|
(Hungarian algorithm, ``scipy.optimize.linear_sum_assignment``) gives the distance

    dist(D, D') = 1 − mean_i |cos(D_i, D'_π(i))|  ∈ [0, 1],

0 when D' is D up to a permutation and sign flips of its atoms (an atom and its negation span the
same concept direction). With S ≥ 2 seeds, stability is the mean distance over all S(S−1)/2 pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from crossmodal.geometry.ranks import unit_atoms


def dictionary_distance(first, second) -> float:
    """1 − mean |cos| over the optimal one-to-one matching of atoms (K, d) and (K', d)."""
    similarity = (unit_atoms(torch.as_tensor(first)).double()
                  @ unit_atoms(torch.as_tensor(second)).double().T).abs().cpu().numpy()
    rows, cols = linear_sum_assignment(similarity, maximize=True)
    return float(1 - similarity[rows, cols].mean())


def stability(dictionaries: Sequence) -> float:
    """Mean :func:`dictionary_distance` over all pairs of ≥ 2 dictionaries' atoms (K, d)."""
    if len(dictionaries) < 2:
        raise ValueError("stability needs the atoms of at least two seeds")
    return float(np.mean([dictionary_distance(first, second)
                          for first, second in combinations(dictionaries, 2)]))
