"""Benchmark: end-to-end extraction throughput vs the forward pass alone.

    python benchmarks/extraction.py [n_pairs] [batch_size]

Builds a randomly initialised toy CLIP of the default architecture (weights do not change the
cost), renders ``n_pairs`` toyworld pairs, then times
  * forward only: already prepared batches through both towers;
  * end to end: ``crossmodal.extract.embed_pairs`` from PNG bytes and captions (decode,
    preprocess, tokenize, embed, normalise, finiteness check).
Target (issue 2): end to end ≥ 0.9 × forward only at the same batch size.
"""

import sys
import tempfile
import time
from pathlib import Path

import torch
import yaml

from crossmodal.encoders.tokenizer import WordTokenizer
from crossmodal.encoders.toy import ToyEncoder, save_checkpoint
from crossmodal.encoders.toy_model import create_toy_clip, toy_model_config
from crossmodal.extract import embed_pairs
from crossmodal.images import decode_image
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


def end_to_end(encoder, images, captions, ids, batch_size) -> float:
    start = time.perf_counter()
    embed_pairs(encoder, images, captions, ids, batch_size)
    return len(images) / (time.perf_counter() - start)


def main(n: int = 4096, batch_size: int = 256) -> None:
    torch.set_num_threads(2)
    pairs, _ = build_pairs(ToyworldSpec(n_train=n, n_test=1, n_shifted=1, n_edits=0),
                           progress=False)
    pairs = pairs[pairs["split"] == "train"]
    images, captions, ids = list(pairs["image"]), list(pairs["caption"]), list(pairs["pair_id"])
    with tempfile.TemporaryDirectory() as tmp:
        encoder = toy_encoder(captions, Path(tmp))
        forward_only(encoder, images[:batch_size], captions[:batch_size], batch_size)  # warm-up
        forward = forward_only(encoder, images, captions, batch_size)
        full = end_to_end(encoder, images, captions, ids, batch_size)
    print(f"toy encoder, {n} pairs, batch {batch_size}, {torch.get_num_threads()} threads")
    print(f"forward only: {forward:8.0f} pairs/s")
    print(f"end to end:   {full:8.0f} pairs/s  ({full / forward:.2f} × forward)")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args)
