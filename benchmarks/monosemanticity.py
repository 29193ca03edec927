"""Benchmark: paper A's monosemanticity scores (crossmodal.monosemanticity).

    python benchmarks/monosemanticity.py [--samples 20000] [--latents 1024] [--m 20]
                                         [--captions 5000] [--parts abc]

Every part runs in a fresh process, so its peak resident memory (ru_maxrss) is its own
(≈ 0.4 GiB of it is the interpreter with torch). Data are random.

(a) Scoring ``--latents`` latents on both modalities from cached embeddings: per modality
    (images d' = 512, texts d' = 384, ``--samples`` rows each) ``top_activating`` streamed over
    sparse codes (4096-row batches, 32 of the K latents active per row, generated before timing),
    ``random_samples``, and ``embsim_winrate`` in both denominator modes. Goal: ≤ 2 minutes total.
(b) ``random_samples`` at K = 4096, n = 50 000, m = 20 (vectorised Floyd) against a Python loop
    over the latents calling ``Generator.choice(n, m, replace=False)``.
(c) The one-time text embedding pass: all-MiniLM-L6-v2 (packaged, offline) over ``--captions``
    short generated captions, batch 256; load time separately.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import time

import numpy as np
import torch

RESULTS: list[tuple[str, str, str, str]] = []
BATCH_ROWS = 4096
ACTIVE_PER_ROW = 32
EMBEDDING_WIDTHS = {"image": 512, "text": 384}


def record(part: str, what: str, seconds: float | str, peak: float | str) -> None:
    seconds = f"{seconds:.2f}" if isinstance(seconds, float) else seconds
    peak = f"{peak:.2f}" if isinstance(peak, float) else peak
    RESULTS.append((part, what, seconds, peak))
    print(f"  {part:4s} {what:58s} {seconds:>10s} s {peak:>8s} GiB", flush=True)


def _call(function, args):
    result = function(*args)
    return result, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20


def isolated(function, *args):
    """``function(*args)`` in a fresh process; returns (result, its peak RSS in GiB)."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_call, (function, args))


def sparse_code_batches(n_rows: int, n_latents: int, seed: int) -> list[torch.Tensor]:
    """(b, K) non-negative codes in ``BATCH_ROWS``-row batches, ``ACTIVE_PER_ROW`` latents on."""
    generator = torch.Generator().manual_seed(seed)
    batches = []
    for start in range(0, n_rows, BATCH_ROWS):
        rows = min(BATCH_ROWS, n_rows - start)
        support = torch.rand(rows, n_latents, generator=generator).topk(ACTIVE_PER_ROW).indices
        codes = torch.zeros(rows, n_latents)
        codes.scatter_(1, support, torch.rand(rows, ACTIVE_PER_ROW, generator=generator))
        batches.append(codes)
    return batches


def time_scoring(n_samples: int, n_latents: int, m: int) -> dict[str, float]:
    """Seconds of each step of scoring all latents on both modalities (summed over them)."""
    from crossmodal.monosemanticity.scores import embsim_winrate, random_samples, top_activating

    seconds = {"top_activating": 0.0, "random_samples": 0.0, "embsim_winrate pair": 0.0,
               "embsim_winrate mean": 0.0}
    for seed, width in enumerate(EMBEDDING_WIDTHS.values()):
        batches = sparse_code_batches(n_samples, n_latents, seed)
        rng = np.random.default_rng(seed)
        embeddings = rng.normal(size=(n_samples, width)).astype(np.float32) + 0.5
        start = time.perf_counter()
        top, _ = top_activating(batches, m)
        seconds["top_activating"] += time.perf_counter() - start
        start = time.perf_counter()
        random = random_samples(n_samples, n_latents, m, seed)
        seconds["random_samples"] += time.perf_counter() - start
        for mode in ("pair", "mean"):
            start = time.perf_counter()
            embsim_winrate(embeddings, top, random, denominator=mode)
            seconds[f"embsim_winrate {mode}"] += time.perf_counter() - start
    return seconds


def time_random_samples(n_samples: int, n_latents: int, m: int) -> dict[str, float]:
    """Seconds of vectorised ``random_samples`` and of a per-latent ``Generator.choice`` loop."""
    from crossmodal.monosemanticity.scores import random_samples

    start = time.perf_counter()
    random_samples(n_samples, n_latents, m, seed=0)
    floyd = time.perf_counter() - start
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    np.stack([rng.choice(n_samples, m, replace=False) for _ in range(n_latents)])
    return {"floyd": floyd, "choice loop": time.perf_counter() - start}


def captions(n_captions: int, seed: int = 0) -> list[str]:
    """Short random captions such as 'a small red cube left of a large blue sphere'."""
    rng = np.random.default_rng(seed)
    sizes, colours = ["small", "large", "tiny", "big"], ["red", "blue", "green", "yellow", "grey"]
    shapes = ["cube", "sphere", "cylinder", "cone", "torus"]
    relations = ["left of", "right of", "above", "below", "next to"]

    def thing() -> str:
        return f"{rng.choice(sizes)} {rng.choice(colours)} {rng.choice(shapes)}"

    return [f"a {thing()} {rng.choice(relations)} a {thing()}" for _ in range(n_captions)]


def time_minilm(n_captions: int) -> dict[str, float]:
    """Seconds to load the packaged MiniLM and to embed ``n_captions`` captions."""
    from crossmodal.monosemanticity.embedders import load_text_embedder

    texts = captions(n_captions)
    start = time.perf_counter()
    embedder = load_text_embedder({"kind": "minilm"})
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    embedder.embed(texts, batch_size=256)
    return {"load": loaded, "embed": time.perf_counter() - start}


def part_scoring(args) -> None:
    print(f"(a) scoring K = {args.latents} latents × 2 modalities, N = {args.samples}, "
          f"m = {args.m}", flush=True)
    seconds, peak = isolated(time_scoring, args.samples, args.latents, args.m)
    for step, spent in seconds.items():
        record("a", f"{step}, both modalities (d' = 512 and 384)", spent, peak)
        peak = ""
    total = seconds["top_activating"] + seconds["random_samples"] + seconds["embsim_winrate pair"]
    record("a", "total: top + random + EmbSim/WinRate (pair), 2 modalities", total, "")


def part_random(args) -> None:
    print("(b) random_samples, K = 4096, n = 50000, m = 20", flush=True)
    seconds, peak = isolated(time_random_samples, 50000, 4096, 20)
    record("b", "random_samples (vectorised Floyd + row shuffle)", seconds["floyd"], peak)
    record("b", "loop over latents of Generator.choice(replace=False)", seconds["choice loop"], "")


def part_minilm(args) -> None:
    print(f"(c) all-MiniLM-L6-v2 over {args.captions} captions, batch 256, "
          f"{torch.get_num_threads()} threads", flush=True)
    seconds, peak = isolated(time_minilm, args.captions)
    record("c", "load packaged MiniLM (offline)", seconds["load"], peak)
    rate = args.captions / seconds["embed"]
    record("c", f"embed {args.captions} captions ({rate:.0f} captions/s)", seconds["embed"], "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=20000)
    parser.add_argument("--latents", type=int, default=1024)
    parser.add_argument("--m", type=int, default=20)
    parser.add_argument("--captions", type=int, default=5000)
    parser.add_argument("--parts", default="abc", help="which of the parts a, b, c to run")
    args = parser.parse_args()
    print(f"{torch.get_num_threads()} torch threads; times in s, peak RSS per part in GiB")
    for name, part in (("a", part_scoring), ("b", part_random), ("c", part_minilm)):
        if name in args.parts:
            part(args)
    print("\n| part | what | seconds | peak GiB |\n|---|---|---:|---:|")
    for row in RESULTS:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
