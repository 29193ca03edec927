"""webdataset tar shards as img2dataset writes them (cc3m-wds, LAION subsets) as a PairSource.

Each shard is an uncompressed tar of samples ``{key}.jpg|jpeg|png|webp`` (the image),
``{key}.txt`` (the caption) and optionally ``{key}.json`` (img2dataset's metadata: url, size,
similarity, …). Shards are given per split as a path, a brace pattern
(``/data/cc3m/{00000..00331}.tar``) or a list of either; relative paths are taken from ``base``.

The shards are read with the ``webdataset`` package (``url_opener`` → ``tar_file_expander``
→ ``group_by_keys`` with the file-name suffixes kept as they are, so the member name of each
image is exact), one pipeline per shard, inside a torch ``DataLoader`` whose workers take the
shards round robin (``webdataset.split_by_worker``). The workers decode every image (JPEG at
reduced scale) and hand back only its reference, so no image bytes cross processes. There are
never more workers than shards, and no empty check runs (the ``empty_check`` of
``webdataset.WebDataset``): a worker with no shard simply yields nothing.

Records (:class:`~crossmodal.data.source.PairRecord`): ``pair_id`` = the sample key (unique
across shards; later duplicates are dropped), ``image`` = the shard's absolute path,
``member`` = the image's member name, ``caption`` = the stripped text of ``{key}.txt``, and one
label per requested ``json_fields`` entry (None where the json lacks it). Records come in shard
order, then tar order, whatever the number of workers; ``max_pairs`` keeps the first pairs of
a split in that order. Dropped and counted: samples without an image or without a caption,
empty or non-UTF-8 captions, images that do not decode, unreadable json, duplicate keys, and
damaged shards (read up to the damage, the rest skipped with a warning).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import torch
import webdataset as wds
from tqdm import tqdm
from webdataset.shardlists import expand_urls
from webdataset.tariterators import group_by_keys, tar_file_expander, url_opener

from crossmodal.data.source import DatasetError, PairRecord, PairSource, is_decodable, resolve

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS = ("jpg", "jpeg", "png", "webp")
CAPTION_EXTENSION = "txt"
AFTER = 2**62  # the position of a shard's read errors: after all of its samples
RESERVED = {"pair_id", "split", "image", "image_member", "caption"}
COMPRESSED_MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ": "xz",
                    b"\x28\xb5\x2f\xfd": "zstd"}


def expand_shards(spec: str | Sequence[str], base: Path, where: str) -> list[str]:
    """Absolute shard paths of a path / brace pattern / list of them; DatasetError (one line)
    for a missing or compressed shard."""
    patterns = [spec] if isinstance(spec, str) else list(spec)
    shards = [resolve(path, base) for pattern in patterns for path in expand_urls(pattern)]
    if not shards:
        raise DatasetError(f"{where}: no shards given; list tar paths or a brace pattern")
    for shard in shards:
        _check_shard(shard, where)
    return shards


def _check_shard(shard: str, where: str) -> None:
    path = Path(shard)
    if not path.is_file():
        raise DatasetError(f"{shard}: shard not found ({where}); fix the path or brace pattern")
    with open(path, "rb") as handle:
        head = handle.read(6)
    for magic, name in COMPRESSED_MAGIC.items():
        if head.startswith(magic):
            raise DatasetError(f"{shard}: {name}-compressed tar ({where}); decompress it — "
                               "images are read from plain tars by member offset")


def _find(sample: Mapping, extensions: Sequence[str]) -> str | None:
    """The sample's field whose suffix (case-insensitive) is the first of ``extensions``."""
    by_lower = {name.lower(): name for name in sample if not name.startswith("__")}
    return next((by_lower[e] for e in extensions if e in by_lower), None)


def _labels(sample: Mapping, json_fields: Sequence[str]) -> dict | str:
    """The requested json fields (scalars as is, the rest as JSON text), or a drop reason."""
    if not json_fields:
        return {}
    field = _find(sample, ("json",))
    if field is None:
        return dict.fromkeys(json_fields)
    try:
        data = json.loads(sample[field])
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "unreadable json"
    if not isinstance(data, dict):
        return "unreadable json"
    return {name: _scalar(data.get(name)) for name in json_fields}


def _scalar(value):
    return value if value is None or isinstance(value, str | int | float | bool) \
        else json.dumps(value)


def _caption(data: bytes) -> str | None:
    """The stripped UTF-8 text of ``{key}.txt``; None if it is not UTF-8."""
    try:
        return data.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None


def _drop_reason(sample: Mapping, image: str | None, text: str | None, caption: str | None,
                 labels: dict | str) -> str | None:
    """Why a sample cannot be a pair (checked cheapest first), or None."""
    if image is None:
        return "samples without an image"
    if text is None:
        return "samples without a caption"
    if caption is None:
        return "non-UTF-8 captions"
    if not caption:
        return "empty captions"
    if isinstance(labels, str):
        return labels
    return None if is_decodable(sample[image]) else "corrupt images"


def sample_record(shard: int, position: int, sample: Mapping, json_fields: Sequence[str]
                  ) -> tuple:
    """``("pair", shard, position, key, member, caption, labels)`` or
    ``("drop", shard, position, reason)`` for one grouped webdataset sample."""
    image, text = _find(sample, IMAGE_EXTENSIONS), _find(sample, (CAPTION_EXTENSION,))
    caption = _caption(sample[text]) if text is not None else None
    labels = _labels(sample, json_fields)
    reason = _drop_reason(sample, image, text, caption, labels)
    if reason is not None:
        return ("drop", shard, position, reason)
    key = sample["__key__"]
    return ("pair", shard, position, key, f"{key}.{image}", caption, labels)


def scan_shard(index: int, shard: str, json_fields: Sequence[str]) -> Iterator[tuple]:
    """The records of one shard in tar order, then ``("error", index, AFTER, message)`` if the
    tar could not be read to its end (webdataset's handler: note it, go on)."""
    errors: list[str] = []

    def handler(error: Exception) -> bool:
        errors.append(str(error.args[0]) if error.args else type(error).__name__)
        return True

    streams = url_opener([{"url": shard}], handler=handler)
    files = tar_file_expander(streams, handler=handler)
    samples = group_by_keys(files, lcase=False, handler=handler)
    for position, sample in enumerate(samples):
        yield sample_record(index, position, sample, json_fields)
    if errors:  # a read error ends the shard: one item per damaged shard
        yield ("error", index, AFTER, errors[0])


class ShardScan(torch.utils.data.IterableDataset):
    """The records of ``shards`` (numbered from ``first``); a DataLoader worker takes every
    ``num_workers``-th shard."""

    def __init__(self, shards: Sequence[str], json_fields: Sequence[str], first: int = 0):
        super().__init__()
        self.shards, self.json_fields, self.first = list(shards), list(json_fields), first

    def __iter__(self) -> Iterator[tuple]:
        numbered = list(enumerate(self.shards, start=self.first))
        for index, shard in wds.split_by_worker(numbered):
            yield from scan_shard(index, shard, self.json_fields)


def _as_is(item):
    return item


def scan(shards: Sequence[str], json_fields: Sequence[str], workers: int, first: int = 0
         ) -> Iterator[tuple]:
    """Every record of ``shards`` (any order), read by ``min(workers, len(shards))`` processes."""
    workers = min(max(0, workers), len(shards))
    loader = torch.utils.data.DataLoader(
        ShardScan(shards, json_fields, first), batch_size=None, collate_fn=_as_is,
        num_workers=workers if workers > 1 else 0)
    yield from loader


class WebDatasetSource(PairSource):
    """Pairs of img2dataset-style shards, ``splits`` mapping split name → shard spec."""

    kind = "webdataset"
    uses_members = True

    def __init__(self, splits: Mapping[str, str | Sequence[str]], where: str = "webdataset",
                 max_pairs: int | None = None, json_fields: Sequence[str] = (),
                 workers: int = 1, base: str | Path = ".", progress_file=None) -> None:
        super().__init__()
        clash = RESERVED & set(json_fields)
        if clash:
            raise DatasetError(f"{where}: json_fields {sorted(clash)} clash with pairs columns; "
                               "leave them out")
        if not splits:
            raise DatasetError(f"{where}: no splits given; name the shards of at least one split")
        self.where, self.max_pairs, self.workers = where, max_pairs, workers
        self.label_columns = tuple(json_fields)
        self.progress_file = progress_file
        self.splits = {split: expand_shards(spec, Path(base), f"{where}, split {split}")
                       for split, spec in splits.items()}
        self.errors: list[str] = []

    def describe(self) -> dict[str, str]:
        return {"kind": self.kind, "shards": json.dumps(self.splits)}

    def records(self) -> Iterator[PairRecord]:
        seen: set[str] = set()
        for split, shards in self.splits.items():
            for item in self._split_pairs(shards):
                _, _, _, key, member, caption, labels = item
                shard = shards[item[1]]
                if key in seen:
                    self.dropped["duplicate keys"] += 1
                    continue
                seen.add(key)
                yield PairRecord(key, split, caption, shard, member, labels)

    def _split_pairs(self, shards: list[str]) -> list[tuple]:
        """The kept ``("pair", …)`` items of one split in (shard, position) order, the first
        ``max_pairs`` of them; what was dropped before the cut is counted."""
        items = sorted(self._scan_until_enough(shards), key=lambda item: item[1:3])
        pairs = [item for item in items if item[0] == "pair"]
        if self.max_pairs is not None and len(pairs) > self.max_pairs:
            cut = pairs[self.max_pairs - 1][1:3]
            pairs = pairs[:self.max_pairs]
            items = [item for item in items if item[1:3] <= cut]
        for item in items:
            if item[0] == "drop":
                self.dropped[item[3]] += 1
            elif item[0] == "error":
                self.dropped["damaged shards (tail skipped)"] += 1
                logger.warning("%s: %s; skipped the rest of the shard", shards[item[1]], item[3])
        return pairs

    def _scan_until_enough(self, shards: list[str]) -> list[tuple]:
        """Scan the shards in groups of ``workers`` until ``max_pairs`` pairs are kept."""
        step = len(shards) if self.max_pairs is None else max(1, self.workers)
        items: list[tuple] = []
        kept = 0
        bar = tqdm(desc=f"scan {self.where}", unit="sample", file=self.progress_file,
                   mininterval=10, disable=self.progress_file is None)
        for start in range(0, len(shards), step):
            for item in scan(shards[start:start + step], self.label_columns, self.workers,
                             first=start):
                items.append(item)
                kept += item[0] == "pair"
                bar.update(item[0] != "error")
            if self.max_pairs is not None and kept >= self.max_pairs:
                break
        bar.close()
        return items

