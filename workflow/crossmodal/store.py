"""Parquet artifacts: pair tables and embeddings (DESIGN §5).

Embeddings are stored one row per pair, ``image`` and ``text`` as ``FixedSizeList<float32>[d]``,
next to the pair's metadata columns; the encoder's description (name, pretrained tag,
normalisation, d) lives in the schema metadata under ``crossmodal``. Every write goes to a
temporary file that is renamed into place, so readers never see a partial artifact.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from crossmodal.atomic import atomic_path

METADATA_KEY = b"crossmodal"


class ArtifactError(ValueError):
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
    """``FixedSizeList<float32>[d]`` column → (N, d) float32 array (the fast path of DESIGN §10)."""
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
