"""Measured per-unit costs, and the device-hours a plan needs at those rates.

Two units, each timed on the device the workflow would run on (``benchmarks/unit_costs.py``):

* an embedded pair — one image and its caption through the encoder's two towers, forward only,
  on preprocessed batches of the config's ``extract.batch_size``: pairs/s per encoder
  architecture (``encoder_key``);
* a training step — one optimizer step of ``train_dictionary`` on a dictionary as configured
  (architecture and its arguments, d, K = expansion · d, the trainer's batch): steps/s per
  ``dictionary_key``.

The estimate is hours = pairs / rate / 3600 for an embeddings file and steps / rate / 3600 for a
training run. It leaves out what these units do not time: image decoding (extraction end to end
runs at 0.5–0.9 of the forward rate), the metrics and the case studies; read it as a lower
bound of those rules' wall time on that device.

A costs table (CSV) has one row per measurement: ``unit`` (embed | train), ``key``,
``rate_per_s``, ``batch_size``, ``device`` (the card or CPU it ran on) and ``measured`` (date).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from crossmodal.errors import CrossmodalError

COLUMNS = ["unit", "key", "rate_per_s", "batch_size", "device", "measured"]
CAPTION_WORDS = ("a", "photo", "of", "dog", "cat", "on", "the", "beach", "red", "car", "city",
                 "night", "mountain", "lake", "with", "two", "people", "walking", "in", "park")


def encoder_key(spec: Mapping) -> str:
    """The architecture an ``encoders.<name>`` block runs: backend, model and precision (the
    weights do not change the cost)."""
    backend = spec["backend"]
    model = {"open_clip": spec.get("name"), "transformers": spec.get("model")}.get(backend, "")
    precision = spec.get("precision", "fp32")
    return " ".join(part for part in (backend, model, precision) if part)


def dictionary_key(spec: Mapping, d: int, batch_size: int) -> str:
    """A ``dictionaries.<name>`` block's cost-relevant shape: its architecture and arguments
    (everything but training knobs and β), d, K and the batch."""
    from crossmodal.dictionaries import ARGUMENTS, n_latents_of

    architecture = spec["architecture"]
    arguments = ", ".join(f"{name}={spec[name]}" for name in ARGUMENTS.get(architecture, ())
                          if name in spec)
    return (f"{architecture}({arguments}) d={int(d)} K={n_latents_of(spec, int(d))} "
            f"batch={int(batch_size)}")


def device_name(device: str) -> str:
    """The card's name on CUDA, else the CPU's model and the threads torch uses."""
    import torch

    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    model = "CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]
        model = names[0] if names else model
    return f"{model} ({torch.get_num_threads()} threads)"


def _synchronise(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def synthetic_batch(encoder, batch_size: int, seed: int = 0):
    """(pixels, tokens) of ``batch_size`` seeded random 256×256 images and 12-word captions,
    through the encoder's own preprocessing."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    images = [Image.fromarray(rng.integers(0, 256, (256, 256, 3), dtype=np.uint8), "RGB")
              for _ in range(batch_size)]
    captions = [" ".join(rng.choice(CAPTION_WORDS, 12)) for _ in range(batch_size)]
    return encoder.prepare_images(images), encoder.prepare_texts(captions)


def embedding_rate(encoder, batch_size: int, batches: int = 3, device: str = "cpu") -> float:
    """Pairs/s of the two towers' forward pass on one preprocessed batch run ``batches`` times
    after one warm-up run."""
    import torch

    pixels, tokens = synthetic_batch(encoder, batch_size)
    with torch.inference_mode():
        for repeat in range(batches + 1):
            if repeat == 1:  # the first run is the warm-up
                _synchronise(device)
                start = time.perf_counter()
            encoder.embed_images(pixels)
            encoder.embed_texts(tokens)
        _synchronise(device)
    return batches * batch_size / (time.perf_counter() - start)


def training_rate(spec: Mapping, d: int, settings, steps: int = 20, seed: int = 0) -> float:
    """Optimizer steps/s of ``train_dictionary`` on ``dictionaries.<name>`` block ``spec`` at
    width ``d`` with ``settings`` (a ``DictionaryTraining``; its batch, one epoch), on
    ``steps`` + 1 batches of seeded random unit vectors; the first step is the warm-up."""
    import dataclasses

    from crossmodal.dictionaries import build_dictionary
    from crossmodal.dictionaries.trainer import train_dictionary

    rng = np.random.default_rng(seed)
    rows = (steps + 1) * settings.batch_size
    image = rng.standard_normal((rows, d)).astype(np.float32)
    text = rng.standard_normal((rows, d)).astype(np.float32)
    image /= np.linalg.norm(image, axis=1, keepdims=True)
    text /= np.linalg.norm(text, axis=1, keepdims=True)
    model = build_dictionary(spec, d, seed=seed)
    warm = dataclasses.replace(settings, epochs=1)
    train_dictionary(model, image[:settings.batch_size], text[:settings.batch_size], warm)
    _synchronise(settings.device)
    start = time.perf_counter()
    train_dictionary(model, image[settings.batch_size:], text[settings.batch_size:], warm)
    _synchronise(settings.device)
    return steps / (time.perf_counter() - start)


def read_costs(path: str | Path) -> pd.DataFrame:
    """A costs table; one line naming the file and what is wrong when it is not one."""
    path = Path(path)
    if not path.is_file():
        raise CrossmodalError(f"{path}: no unit-costs table; measure one with `python "
                              "benchmarks/unit_costs.py --out <csv>` or unset plan.unit_costs")
    table = pd.read_csv(path)
    missing = [c for c in COLUMNS if c not in table.columns]
    bad = pd.to_numeric(table.get("rate_per_s"), errors="coerce")
    if missing or bad.isna().any() or (bad <= 0).any():
        raise CrossmodalError(f"{path}: a unit-costs table needs columns {COLUMNS} and positive "
                              f"rates (missing {missing}); rewrite it with "
                              "benchmarks/unit_costs.py")
    return table


def _rates(costs: pd.DataFrame, unit: str) -> dict[str, tuple[float, str]]:
    """key → (rate, device) of one unit; the last measurement of a key wins."""
    rows = costs[costs["unit"] == unit]
    return {row.key: (float(row.rate_per_s), str(row.device)) for row in rows.itertuples()}


def with_hours(table: pd.DataFrame, keys: pd.Series, amount: str, costs: pd.DataFrame,
               unit: str) -> pd.DataFrame:
    """``table`` with ``rate_per_s``, ``hours`` = amount / rate / 3600 and ``device`` per row
    (NaN and "not measured" where the costs have no row for its key)."""
    rates = _rates(costs, unit)
    found = [rates.get(key, (math.nan, "not measured")) for key in keys]
    rate = np.array([r for r, _ in found], dtype=np.float64)
    return table.assign(rate_per_s=rate,
                        hours=table[amount].to_numpy(dtype=np.float64) / rate / 3600,
                        device=[device for _, device in found])
