"""Two readings of paper B's modality metrics (ρ, FDA, figure 12's bridge shares, p_acc).

* ``authors`` — what the authors' published code computes, which produced the paper's numbers:
  both bridges keep only entries with |D̄D̄ᵀ| ≥ the 0.9-quantile of D̄D̄ᵀ (signed, over all K²
  entries); B_Σ also keeps only |Σ| ≥ the 0.999-quantile of Σ; FDA's ε counts bimodal energy
  with a strict τ < μ < 1 − τ; p_acc centres the embeddings at the energy-weighted mean of the
  atoms and scores a bimodal atom 1.5 − max(acc, 1 − acc).
* ``paper`` — the text as written: no quantile masks, ε over τ ≤ μ ≤ 1 − τ, p_acc centred at the
  data mean with bimodal score 1 − 2(max(acc, 1 − acc) − ½).

In both, bridge masses are magnitudes Σ|B| (an atom pair pointing apart carries mass, it does
not cancel mass elsewhere), so ρ, FDA and the shares are non-negative by construction. Plain
defects of the published code are not followed by either: dead atoms belong to no group (the code
gave them μ = −1, i.e. text-only), and atoms are compared through their cosines (the code's
``normalize=True`` divided a copy).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Convention:
    """How one convention computes the modality metrics (see the module docstring)."""

    name: str
    atom_quantile: float | None        # keep |D̄D̄ᵀ| ≥ this quantile of D̄D̄ᵀ (None: no mask)
    covariance_quantile: float | None  # B_Σ also keeps |Σ| ≥ this quantile of Σ
    strict_epsilon: bool               # FDA's ε over τ < μ < 1 − τ instead of τ ≤ μ ≤ 1 − τ
    probe_centre: str                  # "atoms" (energy-weighted atom mean) or "data"
    bimodal_score: str                 # "authors": 1.5 − max; "paper": 1 − 2(max − ½)


CONVENTIONS: dict[str, Convention] = {
    "authors": Convention("authors", atom_quantile=0.9, covariance_quantile=0.999,
                          strict_epsilon=True, probe_centre="atoms", bimodal_score="authors"),
    "paper": Convention("paper", atom_quantile=None, covariance_quantile=None,
                        strict_epsilon=False, probe_centre="data", bimodal_score="paper"),
}
DEFAULT = "authors"


def convention(name: str | Convention) -> Convention:
    """The :class:`Convention` called ``name`` (a Convention passes through)."""
    if isinstance(name, Convention):
        return name
    if name not in CONVENTIONS:
        raise ValueError(f"conventions {name!r}; choose one of {sorted(CONVENTIONS)}")
    return CONVENTIONS[name]
