"""Result tables: one CSV (machine-readable) and one markdown file (human-readable) each.

A number with an uncertainty has a sibling column ``C ±`` (the half-width of its 95 % interval,
:mod:`crossmodal.metrics.uncertainty`). The CSV keeps both at full precision; the markdown and the
HTML report show ``"mean ± half-width"`` in one cell (:func:`merged_intervals`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from crossmodal.atomic import atomic_path, write_text_atomic
from crossmodal.metrics.uncertainty import format_estimate, interval_column, is_interval_column


def merged_intervals(table: pd.DataFrame, digits: int = 4) -> pd.DataFrame:
    """``table`` with every column C that has a sibling ``C ±`` replaced by the strings
    ``format_estimate(C, C ±, digits)`` ("0.5123 ± 0.021"; a NaN value becomes "NaN") and the
    sibling dropped; every other column unchanged."""
    merged = table.copy()
    for column in table.columns:
        sibling = interval_column(column)
        if is_interval_column(column) or sibling not in table.columns:
            continue
        merged[column] = [_cell(value, half, digits)
                          for value, half in zip(table[column], table[sibling], strict=True)]
        merged = merged.drop(columns=sibling)
    return merged


def _cell(value, half, digits: int) -> str:
    try:
        value, half = float(value), float(half)
    except (TypeError, ValueError):
        return str(value)
    return "NaN" if pd.isna(value) else format_estimate(value, half, digits)


def write_table(
    table: pd.DataFrame,
    csv_path: str | Path,
    markdown_path: str | Path | None = None,
    digits: int = 4,
    notes: Sequence[str] = (),
) -> None:
    """Write ``table`` as CSV (full precision) and markdown (``digits`` significant digits,
    intervals folded into their column by :func:`merged_intervals`, then ``notes`` as a list
    under the table: where the intervals come from)."""
    with atomic_path(csv_path) as tmp:
        table.to_csv(tmp, index=False)
    if markdown_path is not None:
        text = merged_intervals(table, digits).to_markdown(index=False, floatfmt=f".{digits}g")
        text += "\n" + "".join(f"\n- {note}" for note in notes) + ("\n" if notes else "")
        write_text_atomic(markdown_path, text)
