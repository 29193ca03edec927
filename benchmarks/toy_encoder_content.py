"""Benchmark: what a toy encoder keeps of each toyworld family, and its training CPU time.

    python benchmarks/toy_encoder_content.py PAIRS.parquet SPEC.json OUT [--untrained]

Trains one toy CLIP (one torch thread) on the train split of a toyworld pairs file
(``results/data/toyworld/pairs.parquet``) with the ``architecture`` and ``training`` blocks of
SPEC (a JSON file shaped like one encoder of ``config/config.yaml``), then prints and writes to
OUT.csv, as the encoder table computes them:

* the per-family linear probes (``encoder_probes.family_probes``: 5 000 train pairs, balanced
  accuracy on the test split) from image and from text embeddings;
* zero-shot shape with the marginal readout (``metrics.zeroshot.marginal_predict``), recall@1 over
  the whole test split, the modality gap ‖mean image − mean text‖ and the training CPU seconds.

``--untrained`` skips training: the probes of the random initialisation. These runs are the
measurements behind docs/toyworld_encoders.md.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

from crossmodal.encoder_probes import family_probes
from crossmodal.encoders.tokenizer import WordTokenizer
from crossmodal.encoders.toy_model import create_toy_clip, toy_model_config
from crossmodal.encoders.toy_training import (
    TrainingConfig,
    pixel_statistics,
    to_pixels,
    train_toy_clip,
)
from crossmodal.images import decode_to_array
from crossmodal.metrics.zeroshot import marginal_predict, prompt_embeddings
from crossmodal.store import Embeddings, read_frame
from crossmodal.world.prompts import class_prompts

PROBE_PAIRS = 5000
BATCH = 500


def embed(model, tokenizer, frame, mean, std) -> tuple[np.ndarray, np.ndarray]:
    """Unit-norm (N, d) image and text embeddings of a pairs frame."""
    images = decode_to_array(list(frame["image"]))
    captions = list(frame["caption"])
    image, text = [], []
    with torch.no_grad():
        for start in range(0, len(frame), BATCH):
            pixels = to_pixels(images[start:start + BATCH], mean, std)
            image.append(model.encode_image(pixels, normalize=True).numpy())
            tokens = tokenizer(captions[start:start + BATCH])
            text.append(model.encode_text(tokens, normalize=True).numpy())
    return np.concatenate(image), np.concatenate(text)


def zero_shot_shape(model, tokenizer, test: Embeddings) -> float:
    with torch.no_grad():
        names, prompt_sets = prompt_embeddings(
            lambda texts: model.encode_text(tokenizer(list(texts)), normalize=True),
            class_prompts("shape"))
        predicted = marginal_predict(torch.from_numpy(test.image), names, prompt_sets,
                                     float(model.logit_scale.exp()))
    return float(np.mean(predicted == test.pairs["shape"].to_numpy()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs")
    parser.add_argument("spec")
    parser.add_argument("out")
    parser.add_argument("--untrained", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    spec = json.loads(Path(args.spec).read_text())
    pairs = read_frame(args.pairs)
    train = pairs[pairs["split"] == "train"].reset_index(drop=True)
    test = pairs[pairs["split"] == "test"].reset_index(drop=True)

    images = decode_to_array(list(train["image"]))
    tokenizer = WordTokenizer.fit(list(train["caption"]), spec["architecture"]["context_length"])
    mean, std = pixel_statistics(images)
    config = toy_model_config(spec["architecture"], tokenizer.vocab_size, images.shape[1])
    model = create_toy_clip(config, Path(args.out + ".json"), seed=0)
    start = time.process_time()
    if not args.untrained:
        training = TrainingConfig.from_mapping({**spec["training"], "seed": 0})
        with open(os.devnull, "w") as quiet:
            train_toy_clip(model, tokenizer, images, list(train["caption"]), training, mean,
                           std, progress_file=quiet)
    cpu = time.process_time() - start
    model.eval()

    sample = train.iloc[np.random.default_rng(0).choice(len(train), PROBE_PAIRS, replace=False)]
    sample = sample.reset_index(drop=True)
    train_embeddings = Embeddings(sample, *embed(model, tokenizer, sample, mean, std), {})
    test_embeddings = Embeddings(test, *embed(model, tokenizer, test, mean, std), {})
    probes = family_probes(train_embeddings, test_embeddings, seed=0, max_iter=500)
    similarity = test_embeddings.image @ test_embeddings.text.T
    summary = {
        "train_cpu_s": cpu,
        "zero_shot_shape": zero_shot_shape(model, tokenizer, test_embeddings),
        "recall@1": float(np.mean(similarity.argmax(1) == np.arange(len(test)))),
        "gap": float(np.linalg.norm(test_embeddings.image.mean(0)
                                    - test_embeddings.text.mean(0))),
    }
    print(json.dumps(summary))
    print(probes.pivot(index="family", columns="embedding", values="accuracy").round(3))
    probes.assign(**summary).to_csv(args.out + ".csv", index=False)
    Path(args.out + ".json").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
