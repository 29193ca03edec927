"""The ``PairSource`` interface of every dataset reader, and references to images.

A reader is a :class:`PairSource`: :meth:`PairSource.records` yields one :class:`PairRecord`
per usable pair (``pair_id``, ``split``, ``caption``, ``labels``) with a *reference* to its
image, and :meth:`PairSource.open_image` opens that image only when it is needed, so that
extraction streams in batches instead of holding every image in memory. Readers validate each
image (a full decode, at reduced scale for JPEG) and drop what they cannot use; the reasons are
counted in :attr:`PairSource.dropped` and logged, never raised.

``results/data/{dataset}/pairs.parquet`` (:func:`pairs_frame`, :func:`write_pairs`), one row
per pair::

    pair_id       string   unique within the dataset
    split         string   e.g. train, val, test
    image         binary   the encoded image (toyworld, FashionIQ: small images kept inline), or
                  string   the absolute path of the file that holds it: the image file itself,
                           or — when ``image_member`` is set — the uncompressed tar shard
    image_member  string   only for tar shards (webdataset): the member name in the shard,
                           e.g. ``000000123.jpg``
    caption       string   non-empty, stripped
    <labels>      any      the reader's label columns (``label``, ``categories``, …), as is

:class:`PairsFile` reads such a file back as a stream of fixed-size :class:`PairBatch` es (any
kind, toyworld included), the input of :func:`crossmodal.extract.embed_batches`.
"""

from __future__ import annotations

import io
import logging
import os
import tarfile
import threading
from abc import ABC, abstractmethod
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from PIL import Image, UnidentifiedImageError
from tqdm import tqdm

from crossmodal.errors import CrossmodalError
from crossmodal.images import decode_image
from crossmodal.store import write_frame

logger = logging.getLogger(__name__)

IMAGE_COLUMNS = ("image", "image_member")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff")
# what PIL raises on bytes it cannot decode (truncated, corrupt, unknown format, too large)
DECODE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError,
                 Image.DecompressionBombError)
CHECK_CHUNK = 4096  # images validated per round of the thread pool
DRAFT_SIZE = 64  # validation decodes JPEGs at ≥ this size (DCT scaling): all data, 1/64 the work


class DatasetError(CrossmodalError):
    """Dataset input that cannot be read; the one-line message names the file and the fix."""


ImageRef = bytes | str


@dataclass(frozen=True)
class PairRecord:
    """One image–caption pair: ``image`` is the encoded image or the path of the file holding
    it (a tar shard when ``member`` is set); ``labels`` maps label column → value."""

    pair_id: str
    split: str
    caption: str
    image: ImageRef
    member: str | None = None
    labels: Mapping[str, Any] = field(default_factory=dict)


class PairSource(ABC):
    """A dataset as a stream of :class:`PairRecord` s whose images open lazily.

    Subclasses set ``kind``, ``label_columns`` (the keys of every record's ``labels``, in column
    order) and ``uses_members`` (images are tar members), implement :meth:`records` and count
    dropped items in ``self.dropped`` (reason → count) while they iterate.
    """

    kind: str = ""
    label_columns: tuple[str, ...] = ()
    uses_members: bool = False

    def __init__(self) -> None:
        self.dropped: Counter = Counter()

    @abstractmethod
    def records(self) -> Iterator[PairRecord]:
        """The usable pairs, in a deterministic order; dropped ones are counted, not raised."""

    def open_image(self, record: PairRecord) -> Image.Image:
        """The RGB image of ``record``, read now."""
        return open_image(record.image, record.member)

    def describe(self) -> dict[str, str]:
        """What goes into pairs.parquet's schema metadata."""
        return {"kind": self.kind}


# --- opening images ------------------------------------------------------------------------------


class TarMembers:
    """Random access to members of uncompressed tar shards: ``read(shard, member)`` → bytes.

    The member table of a shard (name → data offset, size) is read once and kept for the
    ``cached`` most recently used shards; each read opens the file, seeks and reads, so any
    number of threads may read at once.
    """

    def __init__(self, cached: int = 8) -> None:
        self.cached = cached
        self._tables: OrderedDict[str, dict[str, tuple[int, int]]] = OrderedDict()
        self._lock = threading.Lock()

    def _table(self, shard: str) -> dict[str, tuple[int, int]]:
        with self._lock:
            if shard in self._tables:
                self._tables.move_to_end(shard)
                return self._tables[shard]
        table = member_table(shard)
        with self._lock:
            self._tables[shard] = table
            while len(self._tables) > self.cached:
                self._tables.popitem(last=False)
        return table

    def read(self, shard: str, member: str) -> bytes:
        location = self._table(shard).get(member)
        if location is None:
            raise DatasetError(f"{shard}: no member {member!r}; the shard changed after "
                               "pairs.parquet was written — rerun the dataset's data rule")
        offset, size = location
        with open(shard, "rb") as handle:
            handle.seek(offset)
            return handle.read(size)


def member_table(shard: str | Path) -> dict[str, tuple[int, int]]:
    """{member name: (data offset, size)} of the regular files of an uncompressed tar."""
    try:
        with tarfile.open(shard, "r:") as archive:
            return {info.name: (info.offset_data, info.size) for info in archive
                    if info.isreg()}
    except FileNotFoundError:
        raise DatasetError(f"{shard}: tar shard not found; restore it or rerun the dataset's "
                           "data rule") from None
    except tarfile.ReadError as error:
        raise DatasetError(f"{shard}: not an uncompressed tar ({error}); decompress the shard "
                           "(random access needs a plain .tar)") from None


TAR_MEMBERS = TarMembers()


def read_image_bytes(image: ImageRef, member: str | None = None) -> bytes:
    """The encoded bytes of an image reference (inline bytes, a file, or a tar member)."""
    if isinstance(image, bytes | bytearray | memoryview):
        return bytes(image)
    if member is not None:
        return TAR_MEMBERS.read(image, member)
    try:
        return Path(image).read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"{image}: image file not found; restore it or rerun the dataset's "
                           "data rule") from None


def open_image(image: ImageRef, member: str | None = None) -> Image.Image:
    """The RGB image of a reference; DECODE_ERRORS if it does not decode."""
    return decode_image(read_image_bytes(image, member))


def image_columns(path: str | Path) -> list[str]:
    """The image reference columns of a pairs file: ``image`` (+ ``image_member``)."""
    return [n for n in IMAGE_COLUMNS if n in pq.read_schema(path).names]


def open_images(frame: pd.DataFrame) -> list[Image.Image]:
    """The RGB images of the rows of a pairs frame (its ``image`` and ``image_member``)."""
    members = frame["image_member"] if "image_member" in frame else [None] * len(frame)
    return [open_image(image, _member(member)) for image, member in zip(frame["image"], members)]


def _member(value) -> str | None:
    return value if isinstance(value, str) else None


# --- validating images ---------------------------------------------------------------------------


def is_decodable(data: bytes) -> bool:
    """Whether ``data`` decodes completely as an image (JPEG at reduced scale, so truncated
    and corrupt files are caught at a fraction of the full cost)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (DRAFT_SIZE, DRAFT_SIZE))
            image.load()
    except DECODE_ERRORS:
        return False
    return True


def check_file(path: str | Path) -> str | None:
    """None if the image file at ``path`` decodes, else the reason it is dropped."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return "missing image files"
    except OSError:
        return "unreadable image files"
    return None if is_decodable(data) else "corrupt images"


def check_files(paths: Sequence[str | Path], threads: int = 1, desc: str = "check images",
                progress_file=None) -> list[str | None]:
    """:func:`check_file` of every path, in order, on ``threads`` threads (PIL decodes without
    the GIL); a progress bar goes to ``progress_file``."""
    bar = tqdm(total=len(paths), desc=desc, unit="image", file=progress_file, mininterval=10,
               disable=progress_file is None)
    results: list[str | None] = []
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        for start in range(0, len(paths), CHECK_CHUNK):  # bounded number of pending futures
            results += pool.map(check_file, paths[start:start + CHECK_CHUNK])
            bar.update(len(results) - bar.n)
    bar.close()
    return results


# --- writing pairs.parquet -----------------------------------------------------------------------


def log_dropped(counts: Mapping[str, int], where: str) -> None:
    """One log line listing what was dropped and why (nothing if nothing was)."""
    dropped = {reason: n for reason, n in counts.items() if n}
    if dropped:
        logger.info("%s: dropped %s", where,
                    ", ".join(f"{n} {reason}" for reason, n in sorted(dropped.items())))


def pairs_frame(source: PairSource, where: str) -> pd.DataFrame:
    """The pairs.parquet frame of ``source`` (module docstring columns); DatasetError naming
    ``where`` if no pair is usable. Dropped items are logged."""
    rows = [_row(record, source) for record in source.records()]
    log_dropped(source.dropped, where)
    if not rows:
        reasons = ", ".join(f"{n} {r}" for r, n in sorted(source.dropped.items()) if n)
        raise DatasetError(f"{where}: no usable pairs ({reasons or 'nothing found'}); check the "
                           "dataset's paths in the config")
    columns = ["pair_id", "split", "image", *(["image_member"] if source.uses_members else []),
               "caption", *source.label_columns]
    frame = pd.DataFrame(rows, columns=columns)
    duplicated = frame["pair_id"].duplicated()
    if duplicated.any():
        raise DatasetError(f"{where}: pair id {frame['pair_id'][duplicated].iloc[0]!r} occurs "
                           "more than once; make the ids unique")
    return frame


def _row(record: PairRecord, source: PairSource) -> list:
    member = [record.member] if source.uses_members else []
    return [record.pair_id, record.split, record.image, *member, record.caption,
            *(record.labels.get(c) for c in source.label_columns)]


def write_pairs(source: PairSource, path: str | Path, where: str,
                metadata: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Write ``source`` to ``path`` atomically (schema metadata: ``source.describe()`` and
    ``metadata``); returns the frame written."""
    frame = pairs_frame(source, where)
    write_frame(frame, path, {**source.describe(), **(metadata or {})})
    return frame


# --- reading pairs.parquet back in batches -------------------------------------------------------


@dataclass
class PairBatch:
    """Consecutive rows of a pairs file: ``meta`` every column but the image reference
    (an arrow table, no schema metadata), and per row the image reference, tar member (or None)
    and caption."""

    meta: pa.Table
    images: list[ImageRef]
    members: list[str | None]
    captions: list[str]

    def __len__(self) -> int:
        return len(self.captions)


class PairsFile(PairSource):
    """A written ``pairs.parquet`` (any kind, toyworld included) read back lazily.

    :meth:`batches` yields :class:`PairBatch` es of exactly ``batch_size`` rows (the last may
    be shorter), reading ``read_rows`` rows of the file at a time, so that only the images of a
    few batches are in memory at once.
    """

    def __init__(self, path: str | Path, read_rows: int = 1024,
                 splits: Sequence[str] | None = None) -> None:
        super().__init__()
        self.path = Path(path)
        self.splits = None if splits is None else list(splits)
        if not self.path.is_file():
            raise DatasetError(f"{self.path}: pairs file not found; run "
                               f"`snakemake {self.path}`")
        self.read_rows = read_rows
        self.schema = pq.read_schema(self.path)
        missing = {"pair_id", "split", "image", "caption"} - set(self.schema.names)
        if missing:
            raise DatasetError(f"{self.path}: not a pairs file (no {', '.join(sorted(missing))}"
                               " column); rerun the dataset's data rule")
        self.meta_columns = [n for n in self.schema.names if n not in IMAGE_COLUMNS]
        self.label_columns = tuple(n for n in self.meta_columns
                                   if n not in ("pair_id", "split", "caption"))
        self.uses_members = "image_member" in self.schema.names
        self.kind = "pairs"

    @property
    def num_rows(self) -> int:
        """Rows :meth:`batches` yields: every row, or those of the chosen ``splits``."""
        if self.splits is None:
            return pq.ParquetFile(self.path).metadata.num_rows
        split = pq.read_table(self.path, columns=["split"]).column("split")
        return int(pc.sum(pc.is_in(split, value_set=pa.array(self.splits))).as_py() or 0)

    def _record_batches(self) -> Iterator[pa.RecordBatch]:
        """The file's record batches, only the rows of the chosen ``splits`` when set."""
        reader = pq.ParquetFile(self.path).iter_batches(batch_size=self.read_rows)
        if self.splits is None:
            yield from reader
            return
        wanted = pa.array(self.splits)
        for batch in reader:
            yield batch.filter(pc.is_in(batch.column("split"), value_set=wanted))

    def batches(self, batch_size: int) -> Iterator[PairBatch]:
        """The file's rows (of the chosen ``splits``) in order, ``batch_size`` at a time."""
        for table in exact_batches(self._record_batches(), batch_size, self.schema):
            members = (table.column("image_member").to_pylist() if self.uses_members
                       else [None] * table.num_rows)
            meta = table.select(self.meta_columns).replace_schema_metadata(None)
            yield PairBatch(meta, table.column("image").to_pylist(),
                            members, table.column("caption").to_pylist())

    def records(self) -> Iterator[PairRecord]:
        for batch in self.batches(self.read_rows):
            meta = batch.meta.to_pylist()
            for row, image, member in zip(meta, batch.images, batch.members):
                labels = {c: row[c] for c in self.label_columns}
                yield PairRecord(row["pair_id"], row["split"], row["caption"], image, member,
                                 labels)


def exact_batches(batches: Iterable[pa.RecordBatch], size: int, schema: pa.Schema
                  ) -> Iterator[pa.Table]:
    """Re-cut a stream of record batches into tables of exactly ``size`` rows (last: the rest)."""
    pending: list[pa.RecordBatch] = []
    rows = 0
    for batch in batches:
        pending.append(batch)
        rows += batch.num_rows
        while rows >= size:
            table = pa.Table.from_batches(pending, schema)
            yield table.slice(0, size)
            rest = table.slice(size)
            pending, rows = rest.to_batches(), rest.num_rows
    if rows:
        yield pa.Table.from_batches(pending, schema)


def resolve(path: str | Path, base: Path) -> str:
    """``path`` as an absolute path string, relative paths taken from ``base``."""
    path = Path(os.path.expanduser(str(path)))
    return str((path if path.is_absolute() else base / path).resolve())
