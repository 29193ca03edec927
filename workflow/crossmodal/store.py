"""Parquet artifacts: pair tables and embeddings.

Embeddings are stored one row per pair, ``image`` and ``text`` as ``FixedSizeList<float32>[d]``,
next to the pair's metadata columns; the encoder's description (name, pretrained tag,
normalisation, d) lives in the schema metadata under ``crossmodal``. Every write goes to a
temporary file that is renamed into place, so readers never see a partial artifact.
:class:`EmbeddingsWriter` writes the same format batch by batch (row groups of at most
``row_group_rows`` rows), for datasets whose images do not fit in memory.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from crossmodal.atomic import atomic_path, temporary_sibling
from crossmodal.errors import CrossmodalError

if TYPE_CHECKING:  # typing.Self is Python ≥ 3.11
    from typing import Self

METADATA_KEY = b"crossmodal"


class ArtifactError(CrossmodalError):
    """An artifact that cannot be used as it is; the message names the file and the fix."""


def _with_metadata(table: pa.Table, metadata: Mapping[str, str] | None) -> pa.Table:
    existing = dict(table.schema.metadata or {})
    if metadata:
        existing[METADATA_KEY] = json.dumps(dict(metadata), sort_keys=True).encode()
    return table.replace_schema_metadata(existing)


def write_table(table: pa.Table, path: str | Path, metadata: Mapping[str, str] | None = None):
    """Write ``table`` to ``path`` atomically, with ``metadata`` in the schema."""
    with atomic_path(path) as tmp:
        pq.write_table(_with_metadata(table, metadata), tmp, compression="zstd")


def write_frame(frame: pd.DataFrame, path: str | Path, metadata: Mapping[str, str] | None = None):
    """Write a pandas frame (no index) atomically."""
    write_table(pa.Table.from_pandas(frame, preserve_index=False), path, metadata)


def read_metadata(path: str | Path) -> dict[str, str]:
    """The ``crossmodal`` schema metadata of a parquet file (empty if none)."""
    raw = (pq.read_schema(path).metadata or {}).get(METADATA_KEY)
    return json.loads(raw) if raw else {}


def read_frame(path: str | Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise ArtifactError(f"{path}: file not found; run the rule that produces it "
                            f"(snakemake {path})")
    return pq.read_table(path, columns=columns).to_pandas()


def vectors_to_arrow(vectors: np.ndarray) -> pa.FixedSizeListArray:
    """(N, d) float array → ``FixedSizeList<float32>[d]``."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    return pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), vectors.shape[1])


def arrow_to_vectors(column: pa.ChunkedArray) -> np.ndarray:
    """``FixedSizeList<float32>[d]`` column → (N, d) float32 array (the fast path)."""
    d = column.type.list_size
    return column.combine_chunks().flatten().to_numpy().reshape(-1, d)


@dataclass
class Embeddings:
    """Paired embeddings of one dataset by one encoder: ``image``/``text`` (N, d), ``pairs`` the
    per-row metadata (``pair_id``, ``split``, …), ``metadata`` the encoder description."""

    pairs: pd.DataFrame
    image: np.ndarray
    text: np.ndarray
    metadata: dict[str, str]

    def subset(self, mask) -> Embeddings:
        mask = np.asarray(mask)
        return Embeddings(self.pairs[mask].reset_index(drop=True), self.image[mask],
                          self.text[mask], self.metadata)

    def split(self, name: str) -> Embeddings:
        return self.subset(self.pairs["split"].to_numpy() == name)

    def subsample(self, n: int, seed: int) -> Embeddings:
        """``n`` pairs drawn without replacement (seeded), in their original order; all if fewer."""
        if n >= len(self.pairs):
            return self
        chosen = np.random.default_rng(seed).choice(len(self.pairs), size=n, replace=False)
        mask = np.zeros(len(self.pairs), dtype=bool)
        mask[chosen] = True
        return self.subset(mask)


def write_embeddings(path: str | Path, pairs: pd.DataFrame, image: np.ndarray, text: np.ndarray,
                     metadata: Mapping[str, str]):
    """Write paired embeddings: ``pairs`` metadata columns + ``image`` and ``text`` vectors."""
    if image.shape != text.shape or len(pairs) != len(image):
        raise ArtifactError(f"{path}: {len(pairs)} pairs, image {image.shape}, text {text.shape}"
                            " — shapes must agree")
    table = pa.Table.from_pandas(pairs.reset_index(drop=True), preserve_index=False)
    table = table.append_column("image", vectors_to_arrow(image))
    table = table.append_column("text", vectors_to_arrow(text))
    write_table(table, path, {**metadata, "dim": str(image.shape[1])})


class EmbeddingsWriter:
    """Write an embeddings parquet incrementally, in the format of :func:`write_embeddings`.

    Use as a context manager; :meth:`write` takes one batch of pair metadata (a pandas frame or
    an arrow table with the same columns every time) and its (b, d) ``image`` / ``text``
    vectors. The schema (the first batch's columns + ``image``, ``text`` as
    ``FixedSizeList<float32>[d]``) and the ``crossmodal`` metadata (``metadata`` + ``dim``) are
    fixed by the first batch. Rows are buffered into row groups of ``row_group_rows``; the file
    appears at ``path`` (renamed from a temporary sibling) only when the block exits without an
    exception; otherwise nothing is left behind.
    """

    def __init__(self, path: str | Path, metadata: Mapping[str, str],
                 row_group_rows: int = 16384) -> None:
        self.path, self.metadata = Path(path), dict(metadata)
        self.row_group_rows = row_group_rows
        self.rows = 0
        self._schema: pa.Schema | None = None
        self._writer: pq.ParquetWriter | None = None
        self._pending: list[pa.Table] = []
        self._pending_rows = 0

    def __enter__(self) -> Self:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = temporary_sibling(self.path)
        return self

    def _table(self, pairs, image: np.ndarray, text: np.ndarray) -> pa.Table:
        if image.shape != text.shape or len(pairs) != len(image) or image.ndim != 2:
            raise ArtifactError(f"{self.path}: {len(pairs)} pairs, image {image.shape}, text "
                                f"{text.shape} — shapes must agree")
        table = (pairs if isinstance(pairs, pa.Table)
                 else pa.Table.from_pandas(pairs.reset_index(drop=True), preserve_index=False))
        if self._schema is None and b"pandas" not in (table.schema.metadata or {}):
            # the pandas metadata write_embeddings stores (same dtypes on reading back)
            table = table.replace_schema_metadata(
                pa.Schema.from_pandas(table.to_pandas(), preserve_index=False).metadata)
        table = table.append_column("image", vectors_to_arrow(image))
        return table.append_column("text", vectors_to_arrow(text))

    def write(self, pairs: pd.DataFrame | pa.Table, image: np.ndarray, text: np.ndarray):
        """Append one batch of rows."""
        table = self._table(pairs, image, text)
        if self._schema is None:
            self._schema = _with_metadata(table, {**self.metadata,
                                                  "dim": str(image.shape[1])}).schema
            self._writer = pq.ParquetWriter(self._tmp, self._schema, compression="zstd")
        elif table.schema.field("image").type != self._schema.field("image").type:
            raise ArtifactError(f"{self.path}: a batch of dimension {image.shape[1]} after "
                                f"{self._schema.field('image').type}; the encoder changed")
        self._pending.append(table.cast(self._schema))
        self._pending_rows += table.num_rows
        self.rows += table.num_rows
        if self._pending_rows >= self.row_group_rows:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._writer.write_table(pa.concat_tables(self._pending),
                                     row_group_size=self.row_group_rows)
        self._pending, self._pending_rows = [], 0

    def _finish(self) -> None:
        if self._writer is None:
            raise ArtifactError(f"{self.path}: no rows to write; the dataset is empty")
        self._flush()
        self._writer.close()
        self._writer = None
        os.replace(self._tmp, self.path)

    def __exit__(self, kind, error, traceback) -> None:
        try:
            if error is None:
                self._finish()
        finally:
            if self._writer is not None:
                self._writer.close()
            self._tmp.unlink(missing_ok=True)


def read_embeddings(path: str | Path, pair_columns: Sequence[str] | None = None) -> Embeddings:
    """Read an embeddings parquet; ``pair_columns`` limits the metadata columns read."""
    path = Path(path)
    if not path.exists():
        raise ArtifactError(f"{path}: embeddings not found; run `snakemake {path}`")
    schema = pq.read_schema(path)
    if "image" not in schema.names or "text" not in schema.names:
        raise ArtifactError(f"{path}: not an embeddings file (no image/text columns); "
                            "regenerate it with the extract rule")
    names = [n for n in schema.names if n not in ("image", "text")]
    if pair_columns is not None:
        names = [n for n in names if n in set(pair_columns) | {"pair_id", "split"}]
    table = pq.read_table(path, columns=[*names, "image", "text"])
    return Embeddings(table.select(names).to_pandas(), arrow_to_vectors(table.column("image")),
                      arrow_to_vectors(table.column("text")), read_metadata(path))


def read_vectors(path: str | Path, column: str) -> tuple[pd.DataFrame, np.ndarray]:
    """The other columns of a parquet and its vector ``column`` as an (N, d) float32 array."""
    path = Path(path)
    if not path.exists():
        raise ArtifactError(f"{path}: file not found; run `snakemake {path}`")
    table = pq.read_table(path)
    if column not in table.column_names:
        raise ArtifactError(f"{path}: no vector column {column!r}; regenerate it")
    return table.drop_columns([column]).to_pandas(), arrow_to_vectors(table.column(column))
