"""Benchmark: dictionary training in paper B's two settings, on the CPU and on CUDA when present.

    python benchmarks/large_dictionaries.py [--settings x8 x64] [--architectures mp topk]
                                            [--steps 10] [--device auto|cpu|cuda]

Settings at d = 512 (CLIP ViT-B/32's width): ``x8`` is expansion 8, ℓ0 20 (K = 4096, tables 1
and 3), ``x64`` expansion 64, ℓ0 50 (K = 32768, table 4). Each (setting, architecture) trains
``--steps`` Adam steps (lr 5e-4, batch 512 pairs = 1,024 embeddings, as the workflow trains) in a
fresh process, after one warm-up step, on embeddings from a planted sparse model (each a positive
mix of 20 of 8,192 random unit directions, normalised), and prints:

* embeddings/s of the training loop (warm-up excluded);
* peak memory: the process's resident set on the CPU, ``max_memory_allocated`` on CUDA;
* R² (paper B E.2.1, per instance) on 4,096 held-out pairs after those steps: a short run's R²,
  which says the model learns, not the R² of a full training;
* minutes of paper B's run at that rate: 10 epochs of 1M pairs.

The MP SAE's pursuit forms the K × K Gram matrix only up to ``mp.GRAM_MAX_BYTES`` (1 GiB); at
K = 32768 each step computes the rows it needs instead (memory O(b·K)).
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import torch
from metrics import isolated  # a fresh process per run (benchmarks/metrics.py)

SETTINGS = {"x8": (8, 20), "x64": (64, 50)}  # expansion, k
D = 512
BATCH_PAIRS = 512
PAPER_EMBEDDINGS = 10 * 2 * 1_000_000  # 10 epochs of 1M pairs, image and text


def planted_pairs(n_pairs: int, d: int = D, concepts: int = 8192, active: int = 20,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(n, d) image and text rows: each pair shares a positive mix of ``active`` of
    ``concepts`` random unit directions, plus modality noise; unit norm."""
    rng = np.random.default_rng(seed)
    directions = rng.standard_normal((concepts, d)).astype(np.float32)
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    chosen = rng.integers(0, concepts, (n_pairs, active))
    weights = rng.random((n_pairs, active)).astype(np.float32)
    shared = np.einsum("na,nad->nd", weights, directions[chosen])
    rows = []
    for _ in range(2):
        row = shared + 0.1 * rng.standard_normal(shared.shape).astype(np.float32)
        rows.append(row / np.linalg.norm(row, axis=1, keepdims=True))
    return rows[0], rows[1]


def _peak_gib(device: str) -> float:
    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2 ** 30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20


def train_once(setting: str, architecture: str, steps: int, device: str) -> dict:
    """One (setting, architecture) run; see the module docstring."""
    from crossmodal.dictionaries import build_dictionary
    from crossmodal.dictionaries.evaluate import code_statistics
    from crossmodal.dictionaries.trainer import DictionaryTraining, train_dictionary

    expansion, k = SETTINGS[setting]
    image, text = planted_pairs((steps + 1) * BATCH_PAIRS + 4096)
    held_image, held_text = image[-4096:], text[-4096:]
    spec = {"architecture": architecture, "expansion": expansion, "k": k}
    model = build_dictionary(spec, D, seed=0).to(device)
    settings = DictionaryTraining(epochs=1, batch_size=BATCH_PAIRS, lr=5e-4, device=device)
    train_dictionary(model, image[:BATCH_PAIRS], text[:BATCH_PAIRS],
                     settings)
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    train_dictionary(model, image[BATCH_PAIRS:-4096], text[BATCH_PAIRS:-4096], settings)
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    rate = steps * 2 * BATCH_PAIRS / seconds
    r2 = code_statistics(model, held_image, held_text, batch_size=1024).r2
    return {"setting": setting, "K": expansion * D, "k": k, "architecture": architecture,
            "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
            "embeddings_per_s": rate, "peak_gib": _peak_gib(device), "r2": r2,
            "steps": steps, "paper_run_minutes": PAPER_EMBEDDINGS / rate / 60}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--architectures", nargs="+", default=["mp", "topk"])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    args = parser.parse_args()
    device = args.device if args.device != "auto" else (
        "cuda" if torch.cuda.is_available() else "cpu")
    print(f"device {device}; {torch.get_num_threads()} CPU threads; {args.steps} steps of "
          f"{2 * BATCH_PAIRS} embeddings after one warm-up step", flush=True)
    rows = []
    for setting in args.settings:
        for architecture in args.architectures:
            row, _ = isolated(train_once, setting, architecture, args.steps, device)
            rows.append(row)
            print(f"  {setting} {architecture:5s} K {row['K']:6d}: "
                  f"{row['embeddings_per_s']:10.0f} embeddings/s, {row['peak_gib']:.2f} GiB, "
                  f"R² {row['r2']:.3f}", flush=True)
    print("\n| setting | architecture | K | k | device | embeddings/s | peak GiB | R² "
          "(after steps) | paper run (min) |\n|---|---|---:|---:|---|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['setting']} | {row['architecture']} | {row['K']} | {row['k']} | "
              f"{row['device']} | {row['embeddings_per_s']:.0f} | {row['peak_gib']:.2f} | "
              f"{row['r2']:.3f} ({row['steps']}) | {row['paper_run_minutes']:.0f} |")


if __name__ == "__main__":
    main()
