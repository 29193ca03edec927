"""Paper B's intervention tables: gap removal (tables 9–12) and vector arithmetic (tables 2, 7, 8),
with the paper's CLIP ViT-B/32 column beside ours.

Our split ↔ paper data set: train ↔ LAION (the dictionaries' training data, table 9), test ↔
COCO (table 10), shifted ↔ ImageNet (table 11), toyworld edit triplets ↔ FashionIQ (tables 2, 7,
8). Inputs are the long frames of ``interventions.evaluation`` (method, measure, value) and of
``interventions.arithmetic`` (one row per query kind), one per encoder.

Every column of ours, ``C``, is followed by ``C ±``: the half-width of its 95 % bootstrap interval
as the input frames carry it (``value ±`` of the gap frames, ``<measure> ±`` of the arithmetic
frames; NaN when an input predates them). The paper's columns have none.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from crossmodal.metrics.uncertainty import interval_column

_NA = float("nan")
MEASURE_LABELS = {"dim": "DiM", "w": "W", "recall@1": "recall@1", "zero_shot": "zero-shot acc",
                  "probe": "linear-probe acc", "sep": "sep", "rmg": "RMG", "ood": "OOD"}
METHOD_LABELS = {"reconstructed": "(Î, T̂)", "centre": "(I_center, T_center)",
                 "bimodal": "(Ĩ, T̃) ours", "random": "(I_rand, T_rand)",
                 "shift": "(I_shift, T_shift)"}
TABLE12_LABELS = {"reconstructed": "Unchanged", "centre": "Baseline A (centre)",
                  "project_means": "Baseline B (project out μ)",
                  "project_delta": "Baseline C (project out Δ)", "schrodi": "Schrodi et al.",
                  "bimodal": "Ours (Ĩ, T̃)"}

# Paper B tables 9–11, CLIP column, rows in METHOD_LABELS order.
_GAP_CLIP: dict[str, dict[str, tuple[float, ...]]] = {
    "table9": {"dim": (0.723, 0.009, 0.040, 0.017, 0.011),
               "w": (0.679, 0.686, 0.355, 0.220, 0.447),
               "recall@1": (0.882, 0.898, 0.760, 0.745, 0.704)},
    "table10": {"dim": (0.812, 0.354, 0.153, 0.292, 0.354),
                "w": (0.676, 0.653, 0.359, 0.210, 0.431),
                "recall@1": (0.534, 0.551, 0.430, 0.442, 0.420)},
    "table11": {"dim": (0.859, 0.339, 0.112, 0.288, 0.340),
                "w": (0.684, 0.686, 0.362, 0.197, 0.397),
                "zero_shot": (0.350, 0.367, 0.340, 0.310, 0.311),
                "probe": (_NA,) * 5},
}
GAP_TABLE_MEASURES = {name: tuple(rows) for name, rows in _GAP_CLIP.items()}
# Paper B table 12 (CLIP): ‖Δ‖, sep, RMG, OOD per method, rows in TABLE12_LABELS order.
_TABLE12_CLIP = ((0.72, 1.00, 0.52, 1.00), (0.00, 0.50, 0.45, 0.99), (0.00, 0.50, 0.45, 0.98),
                 (0.00, 0.50, 0.45, 0.89), (0.22, 1.00, 0.46, 0.98), (0.01, 0.50, 0.41, 0.63))
TABLE12_MEASURES = ("dim", "sep", "rmg", "ood")
# Tables 2 and 7 (OOD score of Q and Q_SAE; they print different CLIP Q_SAE values) and table 8
# ((R@10 + R@50)/2 on FashionIQ), CLIP.
TABLE2_CLIP = {"sum": 0.97, "sae": 0.77}
TABLE7_CLIP = {"sum": 0.97, "sae": 0.63}
TABLE8_CLIP = {"delta": 0.499, "source": 0.567, "sum": 0.681, "sae": 0.683}


def _value(frame: pd.DataFrame, method: str, measure: str, column: str = "value") -> float:
    if column not in frame.columns:
        return _NA
    chosen = frame[(frame["method"] == method) & (frame["measure"] == measure)][column]
    return float(chosen.iloc[0]) if len(chosen) else _NA


def _estimate(frame: pd.DataFrame, method: str, measure: str, column: str) -> dict[str, float]:
    """``{column: value, column ±: half-width}`` of one (method, measure) of a gap frame."""
    return {column: _value(frame, method, measure),
            interval_column(column): _value(frame, method, measure, interval_column("value"))}


def gap_table(name: str, measures: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Table 9, 10 or 11: one row per (measure, method), a column per encoder, then the paper's
    CLIP column. ``measures[encoder]`` is that encoder's long (method, measure, value) frame."""
    rows = []
    for measure, reference in _GAP_CLIP[name].items():
        for method, paper in zip(METHOD_LABELS, reference, strict=True):
            row = {"measure": MEASURE_LABELS[measure], "method": METHOD_LABELS[method]}
            for encoder, frame in measures.items():
                row.update(_estimate(frame, method, measure, encoder))
            rows.append({**row, "CLIP (paper)": paper})
    return pd.DataFrame(rows)


def table12(measures: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Table 12: one row per method; per encoder the four gap measures, then the paper's."""
    rows = []
    for (method, label), paper in zip(TABLE12_LABELS.items(), _TABLE12_CLIP, strict=True):
        row = {"method": label}
        for encoder, frame in measures.items():
            for m in TABLE12_MEASURES:
                row.update(_estimate(frame, method, m, f"{encoder} {MEASURE_LABELS[m]}"))
        row.update({f"CLIP {MEASURE_LABELS[m]} (paper)": v
                    for m, v in zip(TABLE12_MEASURES, paper, strict=True)})
        rows.append(row)
    return pd.DataFrame(rows)


def table7(arithmetic: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Table 7: OOD score of every query kind against the targets, per encoder; paper's CLIP."""
    return _query_table(arithmetic, "ood", TABLE7_CLIP)


def table8(arithmetic: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Table 8: (R@10 + R@50)/2 per query kind, within batches of 256 and over the whole
    gallery, per encoder; paper's CLIP (batches)."""
    frame = _query_table(arithmetic, "retrieval_batched", TABLE8_CLIP)
    for encoder, rows in arithmetic.items():
        by_query = rows.set_index("query").loc[frame["query"]]
        for column, source in ((f"{encoder} (gallery)", "retrieval_gallery"),
                               (interval_column(f"{encoder} (gallery)"),
                                interval_column("retrieval_gallery"))):
            frame.insert(frame.columns.get_loc("CLIP (paper)"), column,
                         _column(by_query, source))
    return frame


def _column(rows: pd.DataFrame, column: str) -> np.ndarray:
    """``rows[column]`` as floats, NaN when the frame lacks it (inputs without half-widths)."""
    return rows[column].to_numpy(float) if column in rows else np.full(len(rows), np.nan)


def _query_table(arithmetic: Mapping[str, pd.DataFrame], column: str,
                 paper: Mapping[str, float]) -> pd.DataFrame:
    first = next(iter(arithmetic.values()))
    frame = pd.DataFrame({"query": first["query"], "label": first["label"]})
    for encoder, rows in arithmetic.items():
        by_query = rows.set_index("query").loc[frame["query"]]
        frame[encoder] = _column(by_query, column)
        frame[interval_column(encoder)] = _column(by_query, interval_column(column))
    frame["CLIP (paper)"] = [paper.get(q, _NA) for q in frame["query"]]
    return frame


def table2(arithmetic: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Table 2: OOD score of Q and Q_SAE (and their half-widths), one row per encoder and the
    paper's CLIP row."""
    rows = []
    for encoder, frame in arithmetic.items():
        by_query = frame.set_index("query")
        ood = _column(by_query, "ood")
        half = _column(by_query, interval_column("ood"))
        where = {q: by_query.index.get_loc(q) for q in ("sum", "sae")}
        rows.append({"model": encoder, "Q": ood[where["sum"]],
                     interval_column("Q"): half[where["sum"]],
                     "Q_SAE": ood[where["sae"]], interval_column("Q_SAE"): half[where["sae"]]})
    rows.append({"model": "CLIP (paper)", "Q": TABLE2_CLIP["sum"],
                 interval_column("Q"): _NA, "Q_SAE": TABLE2_CLIP["sae"],
                 interval_column("Q_SAE"): _NA})
    return pd.DataFrame(rows)
