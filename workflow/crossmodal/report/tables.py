"""Result tables: one CSV (machine-readable) and one markdown file (human-readable) each."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from crossmodal.atomic import atomic_path, write_text_atomic


def write_table(
    table: pd.DataFrame,
    csv_path: str | Path,
    markdown_path: str | Path | None = None,
    digits: int = 4,
) -> None:
    """Write ``table`` as CSV (full precision) and markdown (``digits`` significant digits)."""
    with atomic_path(csv_path) as tmp:
        table.to_csv(tmp, index=False)
    if markdown_path is not None:
        write_text_atomic(
            markdown_path, table.to_markdown(index=False, floatfmt=f".{digits}g") + "\n"
        )
