"""Paper B's tables 1, 3 and 4 (main text and appendix A), reference numbers and layout.

The reference columns are the numbers printed in the paper for CLIP ViT-B/32 on LAION; ours come
from the toy encoders on toyworld, so they are compared in direction (SAE vs SAE-A, architecture
vs architecture), not in value.

ρ, FDA and p_acc depend on the convention (``authors`` | ``paper``, geometry/conventions.py). The
``conventions`` column says which one each row was computed with: the metric rows take the
analysis setting; rows labelled "… [<name>]" repeat those metrics under the other convention
(from ``<metric>_<name>`` keys of the metric rows). The paper's numbers were produced by the
authors' code, so they stand only beside ``authors`` rows; rows that no convention changes
say "both".

Each of our number columns ``C`` is followed by ``C ±``, the half-width of its 95 % interval from
the metric row's ``"<metric> ±"`` keys (geometry/resampling.py: t over seed replicas, else a
bootstrap over the evaluation pairs); :func:`interval_notes` says per column which, and n.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from scipy import stats

from crossmodal.metrics.uncertainty import interval_column

# metric key in our metric rows → row label of the paper's tables
METRIC_LABELS: dict[str, str] = {
    "mse": "MSE (↓)", "r2": "R² (↑)", "l0": "ℓ0 (↓)", "l1": "ℓ1 (↓)",
    "stability": "Stability (↓)",
    "stable_rank_d": "Stable rank D (↑)", "effective_rank_d": "Eff. rank D (↑)",
    "stable_rank_d_weighted": "Stable rank D (w) (↑)",
    "effective_rank_d_weighted": "Eff. rank D (w) (↑)", "coherence": "Coherence (↓)",
    "stable_rank_z": "Stable rank ZᵀZ (↓)", "effective_rank_z": "Eff. rank ZᵀZ (↓)",
    "connectivity": "Connectivity (↑)", "negative_interference": "Neg. interference (↓)",
    "rho": "ρ (↑)", "delta_r1": "δ_r@1 (↓)", "fda": "FDA (↑)", "p_acc": "p_acc (↑)",
    "recall1_bimodal": "recall@1, bimodal latents only (↑)", "dead_share": "Dead latents (share)",
    "training_pairs": "Training pairs", "training_steps": "Training steps",
}
CONVENTION_METRICS = ("p_acc", "rho", "fda")
TABLE1_METRICS = ("mse", "r2", "p_acc", "rho", "fda", "delta_r1", "recall1_bimodal")
TABLE34_METRICS = tuple(m for m in METRIC_LABELS if m != "recall1_bimodal")
CONVENTIONS_COLUMN = "conventions"
ALL_CONVENTIONS = ("authors", "paper")
ARCHITECTURES = ("ReLU", "JumpReLU", "TopK", "BatchTopK", "SAE", "SAE-A")

# Paper B table 1, CLIP column: (SAE, SAE-A)
TABLE1_CLIP: dict[str, tuple[float, float]] = {
    "mse": (0.141, 0.163), "r2": (0.859, 0.837), "p_acc": (0.847, 0.915),
    "rho": (0.327, 4.232), "fda": (2.630, 4.559), "delta_r1": (0.224, 0.125),
}
_TABLE34_ORDER = ("mse", "r2", "l0", "l1", "stability", "stable_rank_d", "effective_rank_d",
                  "stable_rank_d_weighted", "effective_rank_d_weighted", "coherence",
                  "stable_rank_z", "effective_rank_z", "connectivity", "negative_interference",
                  "rho", "delta_r1", "fda", "p_acc")
_NA = float("nan")  # the paper prints "/" for ℓ0 of fixed-sparsity architectures; no dead share
# Paper B table 3 (expansion 8, ℓ0 20) and table 4 (expansion 64, ℓ0 50), columns ARCHITECTURES
_TABLE3 = (
    (0.31, 0.26, 0.22, 0.22, 0.14, 0.16), (0.69, 0.74, 0.78, 0.78, 0.86, 0.84),
    (19.8, 17.4, _NA, _NA, _NA, _NA), (1.22, 2.48, 2.59, 2.65, 2.94, 3.09),
    (0.067, 0.23, 0.31, 0.33, 0.15, 0.22), (88.3, 231, 29.6, 161, 28.3, 14.0),
    (500, 501, 498, 501, 455, 435), (1.57, 1.46, 1.92, 1.32, 1.59, 1.17),
    (18.0, 37.8, 55.7, 46.4, 160, 90.3), (0.99, 0.50, 0.51, 0.55, 0.99, 0.99),
    (1.97, 1.69, 1.76, 1.61, 9.03, 1.26), (46.0, 45.5, 85.4, 80, 829, 532),
    (0.24, 0.25, 0.45, 0.021, 0.007, 0.058), (0.0008, 0.0019, 0.0003, 0.0006, 0.0005, 0.0020),
    (0.46, 0.96, 1.98, 0.97, 0.33, 4.23), (0.134, 0.06, 0.05, 0.05, 0.22, 0.12),
    (2.52, 3.44, 8.77, 3.83, 2.63, 4.56), (0.87, 0.87, 0.88, 0.89, 0.85, 0.92),
)
_TABLE4 = (
    (0.28, 0.19, 0.16, 0.16, 0.07, 0.08), (0.72, 0.81, 0.84, 0.84, 0.93, 0.92),
    (50, 49.1, _NA, _NA, _NA, _NA), (1.60, 4.38, 3.99, 4.43, 4.58, 4.69),
    (0.11, 0.35, 0.33, 0.36, 0.26, 0.32), (346, 376, 347, 383, 207, 191),
    (511, 510, 511, 511, 494, 493), (1.65, 1.92, 1.85, 2.82, 1.60, 1.54),
    (26.5, 146, 101, 101, 74.8, 55.1), (0.59, 0.44, 0.51, 0.41, 0.99, 0.99),
    (1.86, 1.58, 1.68, 1.43, 4.06, 2.80), (48.9, 101, 107, 105, 762, 597),
    (0.56, 0.91, 0.81, 0.56, 0.12, 0.13), (0.0012, 0.0012, 0.0017, 0.0045, 0.0013, 0.0013),
    (1.71, 1.41, 1.77, 2.71, 1.13, 2.69), (-0.024, 0.028, 0.024, 0.089, 0.13, 0.052),
    (8.12, 5.17, 5.12, 17.3, 2.79, 2.57), (0.80, 0.81, 0.83, 0.89, 0.84, 0.93),
)
PAPER_TABLES: dict[str, dict[str, dict[str, float]]] = {
    name: {architecture: {metric: row[i] for metric, row in zip(_TABLE34_ORDER, rows,
                                                                strict=True)}
           for i, architecture in enumerate(ARCHITECTURES)}
    for name, rows in (("table3", _TABLE3), ("table4", _TABLE4))
}
# "All reported SAEs were trained on" a random subset of 1M LAION pairs (epochs not stated)
for _columns in PAPER_TABLES.values():
    for _reference_values in _columns.values():
        _reference_values["training_pairs"] = 1_000_000


def metric_rows(metrics: tuple[str, ...], models: Mapping[str, Mapping]) -> list[dict]:
    """The table's row keys: (label, metric key, convention, stands beside the paper's number)
    for each metric, then the convention-dependent ones again under every other convention
    found in ``models``' metric dicts."""
    primary = {str(m.get(CONVENTIONS_COLUMN, "authors")) for m in models.values()}
    if len(primary) > 1:
        raise ValueError(f"metric rows computed under different conventions {sorted(primary)}")
    primary = primary.pop() if primary else "authors"
    rows = [{"label": METRIC_LABELS[m], "key": m,
             "conventions": primary if m in CONVENTION_METRICS else "both",
             "paper": m not in CONVENTION_METRICS or primary == "authors"} for m in metrics]
    for other in ALL_CONVENTIONS:
        present = [m for m in metrics if m in CONVENTION_METRICS
                   and any(f"{m}_{other}" in values for values in models.values())]
        rows += [{"label": f"{METRIC_LABELS[m]} [{other}]", "key": f"{m}_{other}",
                  "conventions": other, "paper": other == "authors"} for m in present]
    return rows


def _reference(row: dict, values: Mapping[str, float] | None) -> float:
    if values is None or not row["paper"]:
        return _NA
    return values.get(row["key"].removesuffix("_authors"), _NA)


def _add_ours(frame: pd.DataFrame, column: str, values: Mapping, keys: list[dict]) -> None:
    """Our column and, right after it, its half-width column ``"<column> ±"`` (NaN where the
    metric row has no ``"<metric> ±"``)."""
    frame[column] = [values.get(r["key"], _NA) for r in keys]
    frame[interval_column(column)] = [values.get(interval_column(r["key"]), _NA) for r in keys]

TABLE5_NOTE = ("W ±, mma ±: seeded bootstrap over the atoms (W: the learned atoms' transported "
               "costs; mma: the matched pairs' similarities) with the transport plan and the "
               "matching held fixed — the spread of recovery quality across atoms, not "
               "training-seed noise (one training run per cell)")


def interval_notes(columns: Mapping[str, Mapping], level: float = 0.95) -> list[str]:
    """One line per column label of ``columns`` (metric dicts) saying where its ± comes from:
    "seeds" (n replicas; the t quantile named, flagged when n = 2), "pairs" (bootstrap over n
    evaluation pairs) or none."""
    notes = []
    for label, values in columns.items():
        source, n = values.get("uncertainty_source"), values.get("uncertainty_n")
        if source == "seeds":
            t = stats.t.ppf((1 + level) / 2, int(n) - 1)
            small = " — n is small, the interval is wide" if int(n) <= 2 else ""
            notes.append(f"{label}: t-interval of the mean over n = {int(n)} seed replicas "
                         f"(seed-0 value shown; t = {t:.3g}{small}); stability has none")
        elif source == "pairs":
            notes.append(f"{label}: seeded bootstrap over the n = {int(n)} evaluation pairs "
                         f"(metrics of the atoms alone, the ZᵀZ spectra, connectivity, "
                         f"interference and stability have none)")
        else:
            notes.append(f"{label}: no interval")
    return notes


def table1(rows: Mapping[str, Mapping[str, Mapping]]) -> pd.DataFrame:
    """Paper B table 1: one row per metric (and its ``conventions``); per encoder an ``SAE`` and
    an ``SAE-A`` column from ``rows[encoder]["SAE" | "SAE-A"]`` (metric dicts), then the
    paper's CLIP columns."""
    models = {(e, m): values for e, pair in rows.items() for m, values in pair.items()}
    keys = metric_rows(TABLE1_METRICS, models)
    frame = pd.DataFrame({"metric": [r["label"] for r in keys],
                          CONVENTIONS_COLUMN: [r["conventions"] for r in keys]})
    for (encoder, model), values in models.items():
        _add_ours(frame, f"{encoder} {model}", values, keys)
    for i, model in enumerate(("SAE", "SAE-A")):
        reference = {m: pair[i] for m, pair in TABLE1_CLIP.items()}
        frame[f"CLIP {model} (paper)"] = [_reference(r, reference) for r in keys]
    return frame


def architecture_table(rows: Mapping[str, Mapping], paper: str) -> pd.DataFrame:
    """Paper B table 3 or 4: one row per metric (and its ``conventions``), for each architecture
    label of ``rows`` (metric dicts) our column and the paper's (``paper`` = "table3" |
    "table4")."""
    keys = metric_rows(TABLE34_METRICS, rows)
    frame = pd.DataFrame({"metric": [r["label"] for r in keys],
                          CONVENTIONS_COLUMN: [r["conventions"] for r in keys]})
    for architecture, metrics in rows.items():
        _add_ours(frame, architecture, metrics, keys)
        reference = PAPER_TABLES[paper].get(architecture)
        if reference is not None:
            frame[f"{architecture} (paper)"] = [_reference(r, reference) for r in keys]
    return frame
