"""A CSV or parquet table of image paths and captions as a PairSource (anything else).

The table (``.csv``, ``.tsv`` or ``.parquet``) has one row per pair: an ``image`` column (a
path, absolute or relative to the table's directory), a ``caption`` column (the names can be
changed with ``image_column`` / ``caption_column``), optionally ``pair_id`` (unique; default
the row number, zero-padded) and ``split`` (default: the configured ``split``), and any other
columns, which are kept as they are as label columns.

Records keep the table's row order: ``image`` = the file's absolute path, ``caption`` = the
stripped caption. Dropped and counted: empty or missing captions, rows without an image path,
and image files that are missing or do not decode.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from crossmodal.data.source import (
    DatasetError,
    PairRecord,
    PairSource,
    check_files,
    resolve,
)

READERS = {".csv": pd.read_csv, ".tsv": lambda p: pd.read_csv(p, sep="\t"),
           ".parquet": pd.read_parquet}


def read_table(path: Path) -> pd.DataFrame:
    """The table at ``path``; DatasetError (one line) if it is missing or unreadable."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise DatasetError(f"{path}: unknown table format; use a .csv, .tsv or .parquet file")
    if not path.is_file():
        raise DatasetError(f"{path}: table not found; fix `path` in the dataset's config")
    try:
        return reader(path)
    except (ValueError, OSError, pd.errors.ParserError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DatasetError(f"{path}: unreadable table ({message}); rewrite it as "
                           "CSV or parquet") from None


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


class TableSource(PairSource):
    """The rows of a CSV/parquet table of (image path, caption, extra columns)."""

    kind = "table"

    def __init__(self, path: str | Path, split: str = "train", image_column: str = "image",
                 caption_column: str = "caption", threads: int = 1, progress_file=None) -> None:
        super().__init__()
        self.path, self.split = Path(path), split
        self.frame = read_table(self.path)
        for role, column in (("image_column", image_column), ("caption_column", caption_column)):
            if column not in self.frame.columns:
                raise DatasetError(f"{self.path}: no column {column!r}; add it or set "
                                   f"`{role}` to one of {list(self.frame.columns)}")
        self.image_column, self.caption_column = image_column, caption_column
        reserved = {image_column, caption_column, "pair_id", "split", "image", "image_member",
                    "caption"}
        self.label_columns = tuple(str(c) for c in self.frame.columns if c not in reserved)
        self._check_ids()
        self.threads, self.progress_file = threads, progress_file

    def _check_ids(self) -> None:
        if "pair_id" not in self.frame.columns:
            return
        ids = self.frame["pair_id"].astype(str)
        if ids.duplicated().any():
            raise DatasetError(f"{self.path}: pair_id {ids[ids.duplicated()].iloc[0]!r} occurs "
                               "more than once; make the ids unique or drop the column")

    def describe(self) -> dict[str, str]:
        return {"kind": self.kind, "table": str(self.path)}

    def _pair_ids(self) -> list[str]:
        if "pair_id" in self.frame.columns:
            return self.frame["pair_id"].astype(str).tolist()
        width = len(str(max(len(self.frame) - 1, 0)))
        return [f"{i:0{width}d}" for i in range(len(self.frame))]

    def _candidates(self) -> list[tuple[int, str, str]]:
        """(row, image path, caption) of rows with a caption and an image path."""
        base = self.path.parent
        rows = []
        images, captions = self.frame[self.image_column], self.frame[self.caption_column]
        for row, (image, caption) in enumerate(zip(images, captions)):
            if not _text(caption):
                self.dropped["empty captions"] += 1
            elif not _text(image):
                self.dropped["rows without an image path"] += 1
            else:
                rows.append((row, resolve(_text(image), base), _text(caption)))
        return rows

    def records(self) -> Iterator[PairRecord]:
        candidates = self._candidates()
        results = check_files([path for _, path, _ in candidates], self.threads, "check images",
                              self.progress_file)
        ids = self._pair_ids()
        splits = (self.frame["split"].astype(str).tolist() if "split" in self.frame.columns
                  else [self.split] * len(self.frame))
        labels = self.frame[list(self.label_columns)].to_dict("records")
        for (row, path, caption), reason in zip(candidates, results):
            if reason is not None:
                self.dropped[reason] += 1
                continue
            yield PairRecord(ids[row], splits[row], caption, path, labels=labels[row])
