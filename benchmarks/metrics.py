"""Benchmark: the geometry metrics of paper B E.2 (crossmodal.geometry).

    python benchmarks/metrics.py [--pairs 40000] [--fda-k 4096] [--large-k 32768] [--quick]
                                 [--parts abd] [--route-k 4096 8192 16384 32768]
                                 [--suite-k 8192 16384 32768] [--profile]

Every part runs in a fresh process, so its peak resident memory (ru_maxrss) is its own
(≈ 0.4 GiB of it is the interpreter with torch). Data are random: unit atoms, energies uniform on
[0, 1), and paired unit embeddings with a modality gap (text = image + noise, shifted apart).

(a) FDA including the bridge B_Γ: exact ``ot.emd`` on random atoms K × d = 4096 × 256, all
    latents live (worst case), then with half the energies zero — the support trick.
(b) ``dictionary_metrics`` on ``--pairs`` random pairs, d = 256, TopK K = 2048, k = 20.
(c) K = 32768: the streamed parts run for real — encoding, Zᵀ Z and Σ scattered into float32
    K × K accumulators, then connectivity, negative interference, ρ and coherence over row
    blocks of the atom cosines. The two cubic / quadratic-memory parts cannot run on a 2-core,
    23 GiB machine: the full spectrum of the normalised Zᵀ Z (eigvalsh, O(K³)) and the exact
    K × K transport plan (O(K²) memory, ≈ 33 bytes per arc in POT's network simplex plus input
    and output). They are timed at smaller K and extrapolated (K³ and the measured K-doubling
    factor); on a GPU, or restricted to the live latents / energy support, they shrink.
(e) The whole ``dictionary_metrics`` of one dictionary for real (both conventions, as the rule
    computes them) at each ``--suite-k``: d = 512, TopK k = 50 with random atoms, so every latent
    fires (the worst case for the ranks and the transport), on ``--pairs`` random pairs; with
    ``--profile`` the 15 costliest calls are printed.
(d) What replaces them at large K, run for real: the ranks of the normalised Zᵀ Z by Lanczos
    (stable rank, exact) and stochastic Lanczos quadrature (effective rank, with its standard
    error; the exact value beside it up to K = 8192), and FDA through column generation (its
    certified gap; the network simplex's FDA beside it at K = 4096).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import time

import numpy as np
import torch

RESULTS: list[tuple[str, str, str, str]] = []


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


def random_atoms(n_atoms: int, d: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    atoms = torch.randn(n_atoms, d, generator=generator)
    return atoms / atoms.norm(dim=1, keepdim=True)


def random_pairs(n_pairs: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    image = rng.normal(size=(n_pairs, d)).astype(np.float32)
    text = image + 0.5 * rng.normal(size=(n_pairs, d)).astype(np.float32)
    image[:, 0] += 3
    text[:, 0] -= 3
    return (image / np.linalg.norm(image, axis=1, keepdims=True),
            text / np.linalg.norm(text, axis=1, keepdims=True))


def time_fda(n_atoms: int, d: int, zero_share: float = 0.0) -> tuple[float, float]:
    """Seconds of ``fda`` (cost, exact plan, B_Γ, α, ε, FDA) and the FDA value."""
    from crossmodal.geometry.bridge import fda

    rng = np.random.default_rng(0)
    image_energy, text_energy = rng.random(n_atoms), rng.random(n_atoms)
    image_energy[rng.random(n_atoms) < zero_share] = 0.0
    text_energy[rng.random(n_atoms) < zero_share] = 0.0
    atoms = random_atoms(n_atoms, d)
    start = time.perf_counter()
    result = fda(image_energy, text_energy, atoms)
    return time.perf_counter() - start, result.fda


def time_suite(n_pairs: int, d: int, n_latents: int, k: int) -> tuple[float, dict]:
    from crossmodal.dictionaries import build_dictionary
    from crossmodal.geometry import dictionary_metrics

    image, text = random_pairs(n_pairs, d)
    spec = {"architecture": "topk", "expansion": n_latents / d, "k": k}
    model = build_dictionary(spec, d, seed=0)
    start = time.perf_counter()
    metrics = dictionary_metrics(model, image, text)
    return time.perf_counter() - start, metrics


@torch.no_grad()
def time_large_streamed(n_pairs: int, d: int, n_latents: int, k: int) -> dict[str, float]:
    """Seconds of the streamed pass (encode, Zᵀ Z, Σ in float32) and of the blockwise metrics."""
    from crossmodal.dictionaries import build_dictionary
    from crossmodal.geometry.bridge import (
        CrossCovariance,
        bridge_matrix,
        functional_alignment,
    )
    from crossmodal.geometry.coactivation import (
        Coactivation,
        connectivity,
        negative_interference,
        normalise_columns,
    )
    from crossmodal.geometry.ranks import coherence
    from crossmodal.modality.energy import modality_score

    image, text = random_pairs(n_pairs, d)
    model = build_dictionary({"architecture": "topk", "expansion": n_latents / d, "k": k}, d)
    model.eval()
    seconds = {}
    start = time.perf_counter()
    gram = Coactivation(n_latents, torch.float32)
    sigma = CrossCovariance(n_latents, torch.float32)
    energy = {"image": torch.zeros(n_latents, dtype=torch.float64),
              "text": torch.zeros(n_latents, dtype=torch.float64)}
    for begin in range(0, n_pairs, 4096):
        codes = {name: model.encode(torch.as_tensor(x[begin:begin + 4096]))
                 for name, x in (("image", image), ("text", text))}
        for name, z in codes.items():
            gram.update(z)
            energy[name] += z.double().square().sum(0)
        sigma.update(codes["image"], codes["text"])
    seconds["stream"] = time.perf_counter() - start
    atoms = model.dictionary.detach()
    start = time.perf_counter()
    normalised = normalise_columns(gram.gram, in_place=True)
    connectivity(normalised)
    negative_interference(normalised, atoms)
    seconds["coactivation"] = time.perf_counter() - start
    del gram, normalised
    start = time.perf_counter()
    mu = modality_score(energy["image"].numpy(), energy["text"].numpy())
    functional_alignment(bridge_matrix(sigma.result(), atoms, in_place=True), mu)
    seconds["rho"] = time.perf_counter() - start
    start = time.perf_counter()
    coherence(atoms)
    seconds["coherence"] = time.perf_counter() - start
    return seconds


def time_eigvalsh(n_latents: int) -> float:
    """Seconds of the float64 spectrum of a random normalised co-activation matrix (K, K)."""
    from crossmodal.geometry.coactivation import coactivation, normalise_columns
    from crossmodal.geometry.ranks import singular_values

    generator = torch.Generator().manual_seed(0)
    codes = torch.zeros(n_latents, n_latents, dtype=torch.float64)
    support = torch.randint(n_latents, (n_latents, 20), generator=generator)
    codes.scatter_(1, support, torch.rand(support.shape, generator=generator, dtype=torch.float64))
    normalised = normalise_columns(coactivation(codes))
    start = time.perf_counter()
    singular_values(normalised, symmetric=True)
    return time.perf_counter() - start


@torch.no_grad()
def time_large_ranks(n_pairs: int, d: int, n_latents: int, k: int, exact: bool
                     ) -> tuple[float, object, object]:
    """Seconds of ``psd_ranks`` (Lanczos + SLQ) on the live block of the normalised Zᵀ Z of a
    random TopK dictionary's codes of ``n_pairs`` pairs, its result and (``exact``) the exact
    ranks for comparison."""
    from crossmodal.dictionaries import build_dictionary
    from crossmodal.geometry.coactivation import Coactivation, normalise_columns
    from crossmodal.geometry.spectrum import psd_ranks
    from crossmodal.geometry.suite import _live_block

    image, text = random_pairs(n_pairs, d)
    model = build_dictionary({"architecture": "topk", "expansion": n_latents / d, "k": k}, d)
    model.eval()
    gram = Coactivation(n_latents, torch.float32)
    for begin in range(0, n_pairs, 4096):
        for x in (image, text):
            gram.update(model.encode(torch.as_tensor(x[begin:begin + 4096])))
    live = _live_block(normalise_columns(gram.gram, in_place=True))
    start = time.perf_counter()
    estimated = psd_ranks(live, exact_max=0)
    seconds = time.perf_counter() - start
    return seconds, estimated, psd_ranks(live) if exact else None


def time_sparse_fda(n_atoms: int, d: int, dense_too: bool) -> tuple[float, object, object]:
    """Seconds of FDA through column generation (all latents live, a fifth image-only and a
    fifth text-only), its result and (``dense_too``) the network simplex's."""
    from crossmodal.geometry import bridge

    rng = np.random.default_rng(0)
    image_energy, text_energy = rng.random(n_atoms), rng.random(n_atoms)
    image_energy[: n_atoms // 5] *= 0.01
    text_energy[n_atoms // 5: 2 * n_atoms // 5] *= 0.01
    atoms = random_atoms(n_atoms, d)
    dense = bridge.fda(image_energy, text_energy, atoms) if dense_too else None
    bridge.DENSE_TRANSPORT_ARCS = 0
    start = time.perf_counter()
    sparse = bridge.fda(image_energy, text_energy, atoms)
    return time.perf_counter() - start, sparse, dense


def part_large_routes(args) -> None:
    print(f"(d) the large-K routes for real: ranks of Zᵀ Z by Lanczos + SLQ ({args.pairs} pairs, "
          "TopK k = 50, d = 512) and FDA by column generation (d = 512)", flush=True)
    for size in args.route_k:
        (seconds, estimated, exact), peak = isolated(time_large_ranks, args.pairs, 512, size, 50,
                                                     size <= 8192)
        against = (f"; exact {exact.effective:.1f} (error {estimated.effective - exact.effective:+.1f})"
                   if exact is not None else "")
        record("d", f"ranks Zᵀ Z, K = {size}: stable {estimated.stable:.2f}, effective "
               f"{estimated.effective:.1f} ± {estimated.effective_error:.1f}{against}",
               seconds, peak)
    for size in args.route_k:
        (seconds, sparse, dense), peak = isolated(time_sparse_fda, size, 512, size <= 4096)
        against = (f"; network simplex {dense.fda:.6f}, cost {dense.cost:.8f}"
                   if dense is not None else "")
        record("d", f"FDA by column generation, K = {size}: FDA {sparse.fda:.6f}, cost "
               f"{sparse.cost:.8f}, gap {sparse.gap:.1e}{against}", seconds, peak)


def time_whole_suite(n_pairs: int, d: int, n_latents: int, k: int, profile: bool
                     ) -> tuple[float, dict]:
    """Seconds and result of ``dictionary_metrics`` (both conventions, default dtype) of a
    random TopK dictionary on random pairs."""
    import cProfile
    import pstats

    from crossmodal.dictionaries import build_dictionary
    from crossmodal.geometry import dictionary_metrics

    image, text = random_pairs(n_pairs, d)
    model = build_dictionary({"architecture": "topk", "expansion": n_latents / d, "k": k}, d)
    profiler = cProfile.Profile() if profile else None
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    metrics = dictionary_metrics(model, image, text, conventions=("authors", "paper"))
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return time.perf_counter() - start, metrics


def part_whole_suite(args) -> None:
    print(f"(e) the whole dictionary_metrics, both conventions, {args.pairs} pairs, d = 512, "
          "TopK k = 50, random atoms (every latent live)", flush=True)
    for size in args.suite_k:
        (seconds, metrics), peak = isolated(time_whole_suite, args.pairs, 512, size, 50,
                                            args.profile)
        shown = ("stable_rank_z", "effective_rank_z", "effective_rank_z_error", "rho", "fda",
                 "transport_gap", "rho_paper", "fda_paper", "delta_r1", "p_acc")
        record("e", f"K = {size}: " + ", ".join(f"{name} {metrics[name]:.4g}" for name in shown),
               seconds, peak)


def part_fda(args) -> None:
    print(f"(a) FDA with the bridge, K = {args.fda_k}, d = 256, exact ot.emd", flush=True)
    (seconds, value), peak = isolated(time_fda, args.fda_k, 256)
    record("a", f"FDA, all {args.fda_k} latents live (FDA = {value:.3f})", seconds, peak)
    (seconds, _), peak = isolated(time_fda, args.fda_k, 256, 0.5)
    record("a", "FDA, half of each modality's energies zero (dropped)", seconds, peak)


def part_suite(args) -> None:
    print(f"(b) dictionary_metrics, {args.pairs} pairs, d = 256, TopK K = 2048, k = 20",
          flush=True)
    (seconds, metrics), peak = isolated(time_suite, args.pairs, 256, 2048, 20)
    record("b", "whole suite (2 streamed passes + all metrics)", seconds, peak)
    print("     " + ", ".join(f"{name} {value:.3g}" for name, value in metrics.items()))


def part_large(args) -> None:
    large = args.large_k
    print(f"(c) K = {large}: streamed parts for real, cubic parts extrapolated", flush=True)
    seconds, peak = isolated(time_large_streamed, args.pairs, 256, large, 20)
    record("c", f"encode + Zᵀ Z + Σ scattered, float32, {args.pairs} pairs",
           seconds["stream"], peak)
    record("c", "connectivity + neg. interference (cosine blocks)", seconds["coactivation"], "")
    record("c", "ρ: bridge in place + group sums", seconds["rho"], "")
    record("c", "coherence (cosine blocks)", seconds["coherence"], "")
    sizes = [2048, 4096] if args.quick else [2048, 4096, 8192]
    for size in sizes:
        spent, peak = isolated(time_eigvalsh, size)
        record("c", f"eigvalsh of normalised Zᵀ Z, K = {size}", spent, peak)
    record("c", f"eigvalsh, K = {large} (× (K/{sizes[-1]})³, extrapolated)",
           spent * (large / sizes[-1]) ** 3, f"{3 * 8 * large ** 2 / 2 ** 30:.0f}*")
    ot_sizes = [4096, 8192] if args.quick else [4096, 8192, 16384]
    ot_seconds = []
    for size in ot_sizes:
        (spent, _), peak = isolated(time_fda, size, 256)
        ot_seconds.append(spent)
        record("c", f"FDA exact OT, K = {size}", spent, peak)
    factor = ot_seconds[-1] / ot_seconds[-2]
    steps = np.log2(large / ot_sizes[-1])
    record("c", f"FDA exact OT, K = {large} (× {factor:.1f} per doubling, extrapolated)",
           ot_seconds[-1] * factor ** steps, f"{(33 + 16) * large ** 2 / 2 ** 30:.0f}*")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=40000)
    parser.add_argument("--fda-k", type=int, default=4096)
    parser.add_argument("--large-k", type=int, default=32768)
    parser.add_argument("--quick", action="store_true", help="smaller extrapolation ladders")
    parser.add_argument("--parts", default="abd", help="which of the parts a-e to run")
    parser.add_argument("--route-k", type=int, nargs="+", default=[4096, 8192, 16384, 32768])
    parser.add_argument("--suite-k", type=int, nargs="+", default=[8192, 16384, 32768])
    parser.add_argument("--profile", action="store_true", help="profile part (e)")
    args = parser.parse_args()
    print(f"{torch.get_num_threads()} torch threads; times in s, peak RSS per part in GiB "
          "(* = estimate)")
    for name, part in (("a", part_fda), ("b", part_suite), ("c", part_large),
                       ("d", part_large_routes), ("e", part_whole_suite)):
        if name in args.parts:
            part(args)
    print("\n| part | what | seconds | peak GiB |\n|---|---|---:|---:|")
    for row in RESULTS:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
