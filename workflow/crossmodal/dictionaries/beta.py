"""Choosing the alignment strength β (paper B §4.1 and appendix B).

The sweep trains SAE-A on a log grid of β (default 1e-6 … 1e-1) next to β = 0; the rule keeps the
largest β whose R² is within ``tolerance`` (0.05) of the unpenalised SAE's — the strongest
alignment that does not cost reconstruction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def beta_grid(low: float = 1e-6, high: float = 1e-1, per_decade: int = 1) -> list[float]:
    """0 followed by a log-spaced grid from ``low`` to ``high`` (inclusive)."""
    decades = np.log10(high) - np.log10(low)
    points = round(decades * per_decade) + 1
    return [0.0] + [float(b) for b in np.logspace(np.log10(low), np.log10(high), points)]


def select_beta(sweep: pd.DataFrame, tolerance: float = 0.05) -> float:
    """Largest β with ``r2 ≥ r2(β=0) − tolerance``; ``sweep`` has columns ``beta`` and ``r2``
    and must contain β = 0."""
    baseline = sweep.loc[sweep["beta"] == 0, "r2"]
    if baseline.empty:
        raise ValueError("the β sweep has no β = 0 row to compare against")
    acceptable = sweep[sweep["r2"] >= baseline.iloc[0] - tolerance]
    return float(acceptable["beta"].max())
