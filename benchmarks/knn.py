"""Benchmark: exact k-th-nearest-neighbour distances (crossmodal.metrics.knn), faiss against ours.

    python benchmarks/knn.py [--queries 20000] [--reference 100000] [--dim 512] [--k 10]
                             [--threads 2] [--repeats 1] [--quick]

Data are seeded random unit vectors, float32. Every backend computes, for each query, the
distance to its k-th nearest reference row on the unit sphere, sqrt(2 − 2 cos):

(a) faiss exact ``IndexFlatIP`` (skipped when faiss is not installed),
(b) our blocked torch path on CPU (GEMM blocks of 4096 × 16384 through numpy's BLAS, exact
    chunk-maxima top-k with torch), ``--threads`` BLAS / OpenMP / torch threads,
(c) our blocked torch path on CUDA (``torch.mm`` + the same top-k), when a GPU is present.

Printed: seconds (best of ``--repeats``, data generation excluded), ours / faiss, the largest
difference in distance from faiss, and the GEMM rate 2·n_q·n_r·d / seconds. ``--quick`` is a
2k × 10k smoke run. Both CPU paths are bound by the float32 GEMM (20k × 100k × 512 is 2 TFLOP);
torch.mm (MKL) reached ≈ 150 GFLOPS on the 2-core AMD EPYC development machine against ≈ 215 for
numpy's OpenBLAS, which is why the CPU path multiplies with numpy.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from crossmodal.metrics.knn import faiss_available, kth_neighbour_distance

RESULTS: list[tuple[str, str, str, str, str]] = []


def random_unit(n: int, d: int, seed: int) -> np.ndarray:
    """(n, d) float32 rows drawn from N(0, I) and L2-normalised."""
    x = np.random.default_rng(seed).standard_normal((n, d), dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def timed(repeats: int, **kwargs) -> tuple[float, np.ndarray]:
    """Best seconds of ``repeats`` calls of ``kth_neighbour_distance(**kwargs)``, and its result."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        distances = kth_neighbour_distance(**kwargs)
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best, distances


def record(what: str, seconds: float, faiss_seconds: float | None, difference: float | None,
           tflop: float) -> None:
    ratio = f"{seconds / faiss_seconds:.2f}" if faiss_seconds else "–"
    diff = f"{difference:.1e}" if difference is not None else "–"
    row = (what, f"{seconds:.2f}", ratio, diff, f"{1000 * tflop / seconds:.0f}")
    RESULTS.append(row)
    print(f"  {what:34s} {row[1]:>8s} s  ours/faiss {ratio:>5s}  max|Δd| {diff:>7s}  "
          f"{row[4]:>6s} GFLOPS", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=int, default=20000)
    parser.add_argument("--reference", type=int, default=100000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="2k queries × 10k reference")
    args = parser.parse_args()
    if args.quick:
        args.queries, args.reference = 2000, 10000
    queries = random_unit(args.queries, args.dim, seed=0)
    reference = random_unit(args.reference, args.dim, seed=1)
    tflop = 2 * args.queries * args.reference * args.dim / 1e12
    common = {"queries": queries, "reference": reference, "k": args.k}
    print(f"k-th NN distance, k = {args.k}: {args.queries} queries × {args.reference} reference "
          f"× d = {args.dim} ({tflop:.2f} TFLOP of inner products), {args.threads} CPU threads")
    torch.set_num_threads(args.threads)
    faiss_seconds, faiss_distances = None, None
    with threadpool_limits(args.threads):
        if faiss_available():
            import faiss

            faiss.omp_set_num_threads(args.threads)
            faiss_seconds, faiss_distances = timed(args.repeats, use_faiss=True, **common)
            record("(a) faiss IndexFlatIP, CPU", faiss_seconds, faiss_seconds, 0.0, tflop)
        else:
            print("  (a) faiss not installed: pip install faiss-cpu")
        seconds, distances = timed(args.repeats, use_faiss=False, device="cpu", **common)
        record("(b) ours, blocked, CPU", seconds, faiss_seconds, difference(distances,
               faiss_distances), tflop)
    if torch.cuda.is_available():
        seconds, distances = timed(args.repeats, use_faiss=False, device="cuda", **common)
        record(f"(c) ours, blocked, {torch.cuda.get_device_name()}", seconds, faiss_seconds,
               difference(distances, faiss_distances), tflop)
    else:
        print("  (c) no CUDA device")
    print("\n| backend | seconds | ours / faiss | max abs Δd vs faiss | GFLOPS |")
    print("|---|---:|---:|---:|---:|")
    for row in RESULTS:
        print("| " + " | ".join(row) + " |")


def difference(distances: np.ndarray, reference: np.ndarray | None) -> float | None:
    """Largest absolute difference between two distance vectors; None without a reference."""
    return None if reference is None else float(np.abs(distances - reference).max())


if __name__ == "__main__":
    main()
