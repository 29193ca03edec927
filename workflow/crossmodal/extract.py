"""Embed every pair of a dataset with an ``Encoder``.

Batches are prepared (decode + preprocess + tokenize) on a background thread while the
previous batch runs through the towers, so the end-to-end throughput stays close to the
forward pass alone. Embeddings are L2-normalised when the encoder says so, checked for
non-finite values, and only then handed back for writing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from tqdm import tqdm

from crossmodal.encoders.base import Encoder
from crossmodal.images import decode_image


class NonFiniteEmbeddingError(ValueError):
    """The encoder produced NaN or inf for some pairs."""


def _prepare(encoder: Encoder, images: Sequence[bytes], captions: Sequence[str]):
    return (encoder.prepare_images([decode_image(b) for b in images]),
            encoder.prepare_texts(list(captions)))


def _prepared_batches(encoder: Encoder, images: Sequence[bytes], captions: Sequence[str],
                      batch_size: int) -> Iterator:
    starts = range(0, len(images), batch_size)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = None
        for start in starts:
            future = pool.submit(_prepare, encoder, images[start:start + batch_size],
                                 captions[start:start + batch_size])
            if pending is not None:
                yield pending.result()
            pending = future
        if pending is not None:
            yield pending.result()


def check_finite(image: np.ndarray, text: np.ndarray, pair_ids: Sequence[str], source: str):
    """Raise ``NonFiniteEmbeddingError`` naming the count and the first offending pair ids."""
    bad = ~(np.isfinite(image).all(1) & np.isfinite(text).all(1))
    if bad.any():
        first = ", ".join(str(p) for p in np.asarray(pair_ids)[bad][:5])
        raise NonFiniteEmbeddingError(
            f"{source}: {int(bad.sum())} of {len(bad)} pairs have NaN/inf embeddings (first: "
            f"{first}); check the encoder's weights and inputs — nothing was written")


@torch.inference_mode()
def embed_pairs(encoder: Encoder, images: Sequence[bytes], captions: Sequence[str],
                pair_ids: Sequence[str], batch_size: int = 256, progress_file=None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Image and text embeddings ``(N, d)`` float32 of encoded images and their captions."""
    if len(images) == 0:
        raise ValueError("no pairs to embed: the dataset is empty")
    image_rows, text_rows = [], []
    bar = tqdm(total=len(images), desc=f"embed {encoder.name}", unit="pair", file=progress_file,
               mininterval=10)
    for pixels, tokens in _prepared_batches(encoder, images, captions, batch_size):
        image_rows.append(encoder.embed_images(pixels).float().cpu())
        text_rows.append(encoder.embed_texts(tokens).float().cpu())
        bar.update(len(image_rows[-1]))
    bar.close()
    image, text = torch.cat(image_rows), torch.cat(text_rows)
    if encoder.normalisation == "l2":
        image = torch.nn.functional.normalize(image, dim=-1)
        text = torch.nn.functional.normalize(text, dim=-1)
    image, text = image.numpy().astype(np.float32), text.numpy().astype(np.float32)
    check_finite(image, text, pair_ids, encoder.name)
    return image, text


def embed_texts(encoder: Encoder, texts: Sequence[str], batch_size: int = 1024) -> np.ndarray:
    """(N, d) float32 embeddings of ``texts`` alone (prompts, relative captions), batched and
    L2-normalised when the encoder's pair embeddings are."""
    if len(texts) == 0:
        raise ValueError("no texts to embed")
    rows = torch.cat([encoder.encode_texts(list(texts[i:i + batch_size]))
                      for i in range(0, len(texts), batch_size)])
    if encoder.normalisation == "l2":
        rows = torch.nn.functional.normalize(rows, dim=-1)
    return rows.numpy().astype(np.float32)
