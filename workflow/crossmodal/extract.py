"""Embed the pairs of a dataset with an ``Encoder``, streaming batch by batch.

:func:`embed_batches` consumes :class:`~crossmodal.data.source.PairBatch` es (from
:meth:`PairsFile.batches <crossmodal.data.source.PairsFile.batches>`, or built in memory by
:func:`embed_pairs`) and yields one :class:`EmbeddedBatch` per input batch, so only a few
batches of images are ever in memory. Each batch is prepared (images read from bytes, files or
tar members, decoded, preprocessed; captions tokenized) on ``workers`` background threads, up to
``workers`` batches ahead of the one running through the towers, so the end-to-end throughput
stays close to the forward pass alone. Images that fail to decode are dropped, logged and
counted. Embeddings are L2-normalised row by row when the encoder says so; non-finite rows are
collected over the whole stream and raised at its end (:class:`NonFiniteEmbeddingError`),
before anything is renamed into place.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import torch
from tqdm import tqdm

from crossmodal.data.source import DECODE_ERRORS, DatasetError, PairBatch, open_image
from crossmodal.encoders.base import Encoder
from crossmodal.errors import CrossmodalError

logger = logging.getLogger(__name__)
WARN_FIRST = 20  # undecodable images logged one by one; the rest only counted


class NonFiniteEmbeddingError(CrossmodalError):
    """The encoder produced NaN or inf for some pairs."""


@dataclass
class EmbeddedBatch:
    """The kept rows of one input batch: ``meta`` (arrow table of the pairs' metadata columns)
    and their (b, d) float32 ``image`` and ``text`` embeddings."""

    meta: pa.Table
    image: np.ndarray
    text: np.ndarray


@dataclass
class ExtractionStats:
    """What one extraction did: pairs embedded, pairs dropped (image does not decode), seconds
    from the first batch requested to the last one embedded, and the non-finite rows seen."""

    pairs: int = 0
    dropped: int = 0
    seconds: float = 0.0
    non_finite: int = 0
    first_non_finite: list[str] = field(default_factory=list)

    @property
    def pairs_per_second(self) -> float:
        return self.pairs / self.seconds if self.seconds > 0 else float("nan")

    def summary(self) -> str:
        return (f"embedded {self.pairs} pairs in {self.seconds:.1f} s "
                f"({self.pairs_per_second:.0f} pairs/s); dropped {self.dropped} pairs whose "
                "image does not decode")


@dataclass
class _Prepared:
    keep: list[int]
    pixels: object
    tokens: object
    errors: dict[int, str]


def _decode(batch: PairBatch, row: int):
    """The RGB image of one row, or the reason it does not decode (a string)."""
    try:
        return open_image(batch.images[row], batch.members[row])
    except DatasetError:
        raise  # the file is gone: the data rule's output no longer matches the data
    except DECODE_ERRORS as error:
        return f"{type(error).__name__}: {error}"


def _prepare(encoder: Encoder, batch: PairBatch) -> _Prepared:
    images = [_decode(batch, row) for row in range(len(batch))]
    errors = {row: image for row, image in enumerate(images) if isinstance(image, str)}
    keep = [row for row in range(len(batch)) if row not in errors]
    if not keep:
        return _Prepared(keep, None, None, errors)
    return _Prepared(keep, encoder.prepare_images([images[row] for row in keep]),
                     encoder.prepare_texts([batch.captions[row] for row in keep]), errors)


def _prepared_batches(encoder: Encoder, batches: Iterable[PairBatch], workers: int
                      ) -> Iterator[tuple[PairBatch, _Prepared]]:
    """(batch, prepared batch) in input order, ``workers`` batches prepared ahead."""
    workers = max(1, workers)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque = deque()
        for batch in batches:
            pending.append((batch, pool.submit(_prepare, encoder, batch)))
            if len(pending) > workers:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()


def loader_threads(threads: int) -> int:
    """Preparation threads for a job with ``threads`` cores: 1 up to 7 cores (measured on 2
    cores: a second thread only competes with the forward pass), then one per 4 cores, ≤ 4."""
    return max(1, min(4, threads // 4))


def _embed(encoder: Encoder, prepared: _Prepared) -> tuple[np.ndarray, np.ndarray]:
    image = encoder.embed_images(prepared.pixels).float().cpu()
    text = encoder.embed_texts(prepared.tokens).float().cpu()
    if encoder.normalisation == "l2":
        image = torch.nn.functional.normalize(image, dim=-1)
        text = torch.nn.functional.normalize(text, dim=-1)
    return image.numpy().astype(np.float32), text.numpy().astype(np.float32)


def _note_non_finite(stats: ExtractionStats, image: np.ndarray, text: np.ndarray,
                     pair_ids: Sequence[str]) -> None:
    bad = ~(np.isfinite(image).all(1) & np.isfinite(text).all(1))
    stats.non_finite += int(bad.sum())
    room = 5 - len(stats.first_non_finite)
    if room > 0:
        stats.first_non_finite += [str(p) for p in np.asarray(pair_ids)[bad][:room]]


def _raise_non_finite(stats: ExtractionStats, total: int, source: str) -> None:
    if stats.non_finite:
        raise NonFiniteEmbeddingError(
            f"{source}: {stats.non_finite} of {total} pairs have NaN/inf embeddings (first: "
            f"{', '.join(stats.first_non_finite)}); check the encoder's weights and inputs — "
            "nothing was written")


def _note_dropped(stats: ExtractionStats, batch: PairBatch, errors: dict[int, str]) -> None:
    for row, reason in errors.items():
        stats.dropped += 1
        if stats.dropped <= WARN_FIRST:
            logger.warning("pair %s: image does not decode (%s); dropped",
                           batch.meta.column("pair_id")[row].as_py(), reason)


@torch.inference_mode()
def embed_batches(encoder: Encoder, batches: Iterable[PairBatch], workers: int = 1,
                  progress_file=None, total: int | None = None,
                  stats: ExtractionStats | None = None) -> Iterator[EmbeddedBatch]:
    """One :class:`EmbeddedBatch` per input batch (rows whose image does not decode left out);
    ``stats`` (if given) is updated as the stream goes. Raises ``NonFiniteEmbeddingError`` at
    the end if any row was NaN/inf, ``ValueError`` if there were no pairs at all."""
    stats = stats if stats is not None else ExtractionStats()
    bar = tqdm(total=total, desc=f"embed {encoder.name}", unit="pair", file=progress_file,
               mininterval=10)
    start, seen = time.perf_counter(), 0
    for batch, prepared in _prepared_batches(encoder, batches, workers):
        seen += len(batch)
        _note_dropped(stats, batch, prepared.errors)
        bar.update(len(batch))
        if not prepared.keep:
            continue
        image, text = _embed(encoder, prepared)
        meta = batch.meta.take(prepared.keep) if len(prepared.keep) < len(batch) else batch.meta
        _note_non_finite(stats, image, text, meta.column("pair_id").to_pylist())
        stats.pairs += len(image)
        stats.seconds = time.perf_counter() - start
        yield EmbeddedBatch(meta, image, text)
    bar.close()
    if seen == 0:
        raise ValueError("no pairs to embed: the dataset is empty")
    _raise_non_finite(stats, stats.pairs, encoder.name)


def memory_batches(images: Sequence, captions: Sequence[str], pair_ids: Sequence[str],
                   batch_size: int) -> Iterator[PairBatch]:
    """In-memory pairs (encoded images or paths) as :class:`PairBatch` es of ``batch_size``."""
    for start in range(0, len(images), batch_size):
        stop = start + batch_size
        rows = list(images[start:stop])
        yield PairBatch(pa.table({"pair_id": [str(p) for p in pair_ids[start:stop]]}), rows,
                        [None] * len(rows), list(captions[start:stop]))


def embed_pairs(encoder: Encoder, images: Sequence[bytes], captions: Sequence[str],
                pair_ids: Sequence[str], batch_size: int = 256, progress_file=None,
                workers: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Image and text embeddings ``(N, d)`` float32 of encoded images and their captions, row i
    of pair i; an image that does not decode raises ``DatasetError``."""
    if len(images) == 0:
        raise ValueError("no pairs to embed: the dataset is empty")
    stats = ExtractionStats()
    parts = list(embed_batches(encoder, memory_batches(images, captions, pair_ids, batch_size),
                               workers, progress_file, len(images), stats))
    if stats.dropped:
        raise DatasetError(f"{stats.dropped} of {len(images)} images do not decode; pass only "
                           "decodable images to embed_pairs")
    return (np.concatenate([p.image for p in parts]), np.concatenate([p.text for p in parts]))


def _embed_alone(encoder: Encoder, encode, items: Sequence, batch_size: int, what: str
                 ) -> np.ndarray:
    """``encode`` (one of the encoder's ``encode_*``) over ``items`` in batches, L2-normalised
    when the encoder's pair embeddings are: (N, d) float32."""
    if len(items) == 0:
        raise ValueError(f"no {what} to embed")
    rows = torch.cat([encode(list(items[i:i + batch_size]))
                      for i in range(0, len(items), batch_size)])
    if encoder.normalisation == "l2":
        rows = torch.nn.functional.normalize(rows, dim=-1)
    return rows.numpy().astype(np.float32)


def embed_texts(encoder: Encoder, texts: Sequence[str], batch_size: int = 1024) -> np.ndarray:
    """(N, d) float32 embeddings of ``texts`` alone (prompts, relative captions), batched and
    L2-normalised when the encoder's pair embeddings are."""
    return _embed_alone(encoder, encoder.encode_texts, texts, batch_size, "texts")


def embed_images(encoder: Encoder, images: Sequence, batch_size: int = 64) -> np.ndarray:
    """(N, d) float32 embeddings of PIL ``images`` alone (references, generated images),
    batched and L2-normalised when the encoder's pair embeddings are."""
    return _embed_alone(encoder, encoder.encode_images, images, batch_size, "images")
