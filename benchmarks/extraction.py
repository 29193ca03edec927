"""Benchmark: end-to-end extraction throughput vs the forward pass alone.

    python benchmarks/extraction.py [n_pairs] [batch_size] [image_format]

Builds a randomly initialised toy CLIP of the default architecture (weights do not change the
cost), renders ``n_pairs`` toyworld pairs, then times
  * forward only: already prepared batches through both towers;
  * in memory: ``crossmodal.extract.embed_pairs`` from PNG bytes and captions (decode,
    preprocess, tokenize, embed, normalise, finiteness check);
  * streaming, 1 and 2 loader threads: what rule extract_embeddings does — ``PairsFile``
    batches of a pairs.parquet through ``embed_batches`` into an ``EmbeddingsWriter``.
``image_format`` ``files`` stores the images as JPEG files referenced by path (the real-data
layout) instead of inline PNG bytes.
Target: end to end ≥ 0.9 × forward only at the same batch size.
"""

import io
import sys
import tempfile
import time
from pathlib import Path

import torch
import yaml
from PIL import Image

from crossmodal.data import PairsFile
from crossmodal.encoders.tokenizer import WordTokenizer
from crossmodal.encoders.toy import ToyEncoder, save_checkpoint
from crossmodal.encoders.toy_model import create_toy_clip, toy_model_config
from crossmodal.extract import embed_batches, embed_pairs
from crossmodal.images import decode_image
from crossmodal.store import EmbeddingsWriter, write_frame
from crossmodal.world import ToyworldSpec, build_pairs

ROOT = Path(__file__).resolve().parents[1]


def toy_encoder(captions, tmp: Path) -> ToyEncoder:
    architecture = yaml.safe_load((ROOT / "config/config.yaml").read_text())["toy_architecture"]
    tokenizer = WordTokenizer.fit(captions, architecture["context_length"])
    config = toy_model_config(architecture, tokenizer.vocab_size, 64)
    model = create_toy_clip(config, tmp / "toyworld-bench.json")
    save_checkpoint(tmp / "model.pt", "bench", model, config, tokenizer, [0.5] * 3, [0.25] * 3)
    return ToyEncoder(tmp / "model.pt")


@torch.inference_mode()
def forward_only(encoder, images, captions, batch_size) -> float:
    batches = [(encoder.prepare_images([decode_image(b) for b in images[i:i + batch_size]]),
                encoder.prepare_texts(captions[i:i + batch_size]))
               for i in range(0, len(images), batch_size)]
    start = time.perf_counter()
    for pixels, tokens in batches:
        encoder.embed_images(pixels)
        encoder.embed_texts(tokens)
    return len(images) / (time.perf_counter() - start)


def in_memory(encoder, images, captions, ids, batch_size) -> float:
    start = time.perf_counter()
    embed_pairs(encoder, images, captions, ids, batch_size)
    return len(images) / (time.perf_counter() - start)


def streaming(encoder, pairs_path: Path, out: Path, batch_size: int, workers: int) -> float:
    start = time.perf_counter()
    source = PairsFile(pairs_path)
    with EmbeddingsWriter(out, encoder.describe()) as writer:
        for batch in embed_batches(encoder, source.batches(batch_size), workers=workers):
            writer.write(batch.meta, batch.image, batch.text)
    return source.num_rows / (time.perf_counter() - start)


def as_jpeg_files(pairs, tmp: Path):
    """The pairs with each image re-encoded as a JPEG file and referenced by its path."""
    folder = tmp / "images"
    folder.mkdir()
    paths = []
    for pair_id, data in zip(pairs["pair_id"], pairs["image"]):
        path = folder / f"{pair_id}.jpg"
        buffer = io.BytesIO()
        decode_image(data).save(buffer, format="JPEG", quality=90)
        path.write_bytes(buffer.getvalue())
        paths.append(str(path))
    return pairs.assign(image=paths)


def main(n: int = 4096, batch_size: int = 256, image_format: str = "png") -> None:
    torch.set_num_threads(2)
    Image.init()
    pairs, _ = build_pairs(ToyworldSpec(n_train=n, n_test=1, n_shifted=1, n_edits=0),
                           progress=False)
    pairs = pairs[pairs["split"] == "train"].reset_index(drop=True)
    images, captions, ids = list(pairs["image"]), list(pairs["caption"]), list(pairs["pair_id"])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        stored = as_jpeg_files(pairs, tmp) if image_format == "files" else pairs
        write_frame(stored, tmp / "pairs.parquet")
        encoder = toy_encoder(captions, tmp)
        forward_only(encoder, images[:batch_size], captions[:batch_size], batch_size)  # warm-up
        forward = forward_only(encoder, images, captions, batch_size)
        memory = in_memory(encoder, images, captions, ids, batch_size)
        stream = {w: streaming(encoder, tmp / "pairs.parquet", tmp / f"e{w}.parquet",
                               batch_size, w) for w in (1, 2)}
    print(f"toy encoder, {n} pairs, batch {batch_size}, {torch.get_num_threads()} threads, "
          f"images stored as {image_format}")
    print(f"forward only:           {forward:8.0f} pairs/s")
    print(f"in memory (embed_pairs): {memory:7.0f} pairs/s  ({memory / forward:.2f} × forward)")
    for workers, rate in stream.items():
        print(f"streaming, {workers} thread(s):  {rate:7.0f} pairs/s  ({rate / forward:.2f} × "
              "forward)")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(*(int(a) for a in args[:2]), *args[2:3])
