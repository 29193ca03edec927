"""Benchmark: rule extract_embeddings' code path on the real CLIP ViT-B/32 architecture.

    python benchmarks/extraction_real.py [n_pairs] [batch_size] [threads]

Writes ``n_pairs`` (default 256) 224×224 JPEG files and captions as a pairs.parquet (the
real-data layout: images referenced by path), builds a randomly initialised open_clip ViT-B-32
(``load_encoder({"backend": "open_clip", "name": "ViT-B-32", "pretrained": None})``: the
weights do not change the cost) and times, on CPU and on CUDA when present:

  * forward only: already preprocessed and tokenised batches through both towers;
  * end to end: exactly what rule extract_embeddings runs — ``PairsFile`` batches through
    ``crossmodal.extract.embed_batches`` (decode, preprocess, tokenise, embed, normalise,
    finiteness check, on ``loader_threads(threads)`` loader threads) into an
    ``EmbeddingsWriter``.

One warm-up batch precedes each timing. Reports pairs/s.
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image

from crossmodal import runtime
from crossmodal.data import PairsFile
from crossmodal.encoders import load_encoder
from crossmodal.extract import ExtractionStats, embed_batches, loader_threads
from crossmodal.store import EmbeddingsWriter, write_frame

SPEC = {"backend": "open_clip", "name": "ViT-B-32", "pretrained": None}
WORDS = ["a", "photo", "of", "dog", "cat", "on", "the", "beach", "red", "car", "city", "night",
         "mountain", "lake", "with", "two", "people", "walking", "in", "park"]


def jpeg_pairs(folder: Path, n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` pairs of a 224-px JPEG file (smooth random colours + noise) and a short caption."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        base = rng.integers(0, 256, (7, 7, 3), dtype=np.uint8)
        image = Image.fromarray(base).resize((224, 224), Image.BILINEAR)
        noisy = np.asarray(image, dtype=np.int16) + rng.integers(-20, 21, (224, 224, 3))
        buffer = io.BytesIO()
        Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=90)
        path = folder / f"{i:05d}.jpg"
        path.write_bytes(buffer.getvalue())
        caption = " ".join(rng.choice(WORDS, size=int(rng.integers(5, 15))))
        rows.append({"pair_id": f"{i:05d}", "split": "test", "image": str(path),
                     "caption": caption})
    return pd.DataFrame(rows)


def synchronise(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


@torch.inference_mode()
def forward_only(encoder, pairs: pd.DataFrame, batch_size: int, device: str) -> float:
    images = [Image.open(p).convert("RGB") for p in pairs["image"]]
    captions = list(pairs["caption"])
    batches = [(encoder.prepare_images(images[i:i + batch_size]),
                encoder.prepare_texts(captions[i:i + batch_size]))
               for i in range(0, len(images), batch_size)]
    pixels, tokens = batches[0]  # warm-up
    encoder.embed_images(pixels.to(device))
    encoder.embed_texts(tokens.to(device))
    synchronise(device)
    start = time.perf_counter()
    for pixels, tokens in batches:
        encoder.embed_images(pixels.to(device))
        encoder.embed_texts(tokens.to(device))
    synchronise(device)
    return len(images) / (time.perf_counter() - start)


def end_to_end(encoder, pairs_path: Path, out: Path, batch_size: int, threads: int,
               device: str) -> tuple[float, str]:
    """Rule extract_embeddings' loop (workflow/scripts/extract_embeddings.py)."""
    source = PairsFile(pairs_path)
    warm = next(iter(embed_batches(encoder, source.batches(batch_size), workers=1)))
    del warm
    synchronise(device)
    stats = ExtractionStats()
    start = time.perf_counter()
    with EmbeddingsWriter(out, encoder.describe()) as writer:
        for batch in embed_batches(encoder, source.batches(batch_size),
                                   workers=loader_threads(threads), total=source.num_rows,
                                   stats=stats):
            writer.write(batch.meta, batch.image, batch.text)
    synchronise(device)
    return source.num_rows / (time.perf_counter() - start), stats.summary()


def main(n: int = 256, batch_size: int = 64, threads: int = 2) -> None:
    runtime.configure(threads, 0)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        pairs = jpeg_pairs(tmp / "images", n)
        write_frame(pairs, tmp / "pairs.parquet")
        encoder = load_encoder(SPEC)
        print(f"open_clip ViT-B-32 (random init), {n} pairs of 224-px JPEG files, batch "
              f"{batch_size}, {torch.get_num_threads()} torch threads, "
              f"{loader_threads(threads)} loader thread(s)")
        for device in devices:
            encoder.to(device)
            forward = forward_only(encoder, pairs, batch_size, device)
            rate, summary = end_to_end(encoder, tmp / "pairs.parquet", tmp / f"{device}.parquet",
                                       batch_size, threads, device)
            print(f"{device:4s} forward only: {forward:8.1f} pairs/s")
            print(f"{device:4s} end to end:   {rate:8.1f} pairs/s ({rate / forward:.2f} × forward)"
                  f"  [{summary}]")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:4]))
