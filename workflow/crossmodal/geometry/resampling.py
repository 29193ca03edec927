"""Uncertainty of paper B's dictionary metrics (tables 1, 3, 4): seed replicas or a pair bootstrap.

Two sources, as metrics/uncertainty.py sets out:

* **seed replicas** — when the dictionary was retrained with ``paper_b.stability_seeds``, every
  metric is recomputed on each replica (the replicas exist already for the stability metric;
  nothing is retrained) and its half-width is the Student-t interval of the mean of the n values
  (seed 0 and the replicas; :func:`seed_half_widths`). The table keeps the **seed-0 value** as
  its point estimate: paper B reports one trained dictionary per cell, the seed-0 dictionary is
  the one every other analysis (interventions, figures) reads, and a mean over replicas would
  change the columns other code compares. The ± then says how far the seed-to-seed spread moves
  the mean of n replicas around that value; with n = 2 the t quantile is t_{0.975,1} = 12.7, so
  the interval is wide and says mostly that n is small.
* **pair bootstrap** — otherwise, B resamples of the N evaluation pairs with replacement
  (:func:`pair_statistic`, resample b ↦ pair weights w = counts of each pair, Σ w = N), recomputing
  from the codes of one encoding pass (:class:`PairItems`), never re-encoding or retraining:

  - MSE, R², ℓ0, ℓ1: weighted means of per-pair values (x̄ of R² stays the full-sample mean);
  - energies E_img, E_txt (K,) = Σ_n w_n z_n² / N, hence μ, the bimodal mask δ, the dead share
    and the bimodal energy share;
  - p_acc: per-atom accuracies Σ_n w_n 1{correct} / 2N from the fixed probe scores x·D_i (N, K)
    against the resample's centre c·D_i (``authors``: energy-weighted atom mean of the resample's
    energies; ``paper``: the resample's data mean);
  - ρ: Σ = Z_Iᵀ diag(w) Z_T / N, bridge and masks as in bridge.py (computed on the block of
    latents live in the full sample, :func:`live_bridge`), groups from the resample's μ;
  - FDA: the transport between the resample's energy histograms, recomputed exactly (``ot.emd``);
  - recall@1 of the full and of the bimodal-only reconstructions and δ_r@1: per-pair hits (the
    mean of the image→text and text→image hit of the pair, inside the fixed seeded retrieval
    batches; pairs left out of the batches are NaN and skipped) resampled **given the
    full-sample bimodal mask** (the mask's own noise is not propagated into δ_r@1);
  - energy-weighted ranks of D: recomputed with the resample's energies.

  Metrics of the atoms alone (stable and effective rank of D, coherence) have no pair noise: their
  only source is seed replicas (NaN ± without them). The spectra of ZᵀZ, connectivity and the
  negative interference would need one K × K eigen-decomposition and K × K products per
  resample (eigvalsh alone 0.85 s at the 1 864 live latents of toyclip's ReLU, 1 thread: ~170 s
  for 200 resamples, ~15× the whole rule) and are left to seed replicas too; so is stability
  (one number from all replicas together). Every table-1 metric is covered.

  Cost (toyworld test split, N = 2 000 pairs, K = 2 048, 1 thread on a busy 2-core machine):
  one resample takes ~0.7 s for an MP SAE (~200 live latents), dominated by the exact FDA
  transport and the K × K bridge of each convention; for a dictionary with ~1 900 live latents
  (ReLU) ~5–7 s, the FDA transport being ~4 s per convention. Only dictionaries without seed
  replicas are bootstrapped (in the default config toydeclip's SAE and SAE-A).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy import sparse

from crossmodal.dictionaries.base import Dictionary
from crossmodal.dictionaries.evaluate import paired_codes
from crossmodal.geometry.bridge import (
    bridge_cosines,
    fda,
    functional_alignment,
    quantile_threshold,
)
from crossmodal.geometry.conventions import convention
from crossmodal.geometry.intervention import decode_with_and_without
from crossmodal.geometry.probing import atom_centre, probe_result
from crossmodal.geometry.ranks import (
    atom_cosines,
    effective_rank_of_spectrum,
    energy_weighted,
    singular_values,
    stable_rank_of_spectrum,
)
from crossmodal.metrics.retrieval import batch_indices, correct_ranks
from crossmodal.metrics.uncertainty import bootstrap_half_widths, interval_column, seed_half_width
from crossmodal.modality.energy import bimodal_energy_share, bimodal_mask, modality_score

RECALL_BATCH = 256
# metrics of the suite the pair bootstrap recomputes (per convention for the modality ones)
PAIR_METRICS = ("mse", "r2", "l0", "l1", "dead_share", "bimodal_energy_share",
                "stable_rank_d_weighted", "effective_rank_d_weighted", "recall1_full",
                "recall1_bimodal", "delta_r1")
CONVENTION_PAIR_METRICS = ("rho", "fda", "p_acc")
SOURCE_COLUMN, N_COLUMN = "uncertainty_source", "uncertainty_n"


@dataclass(frozen=True)
class PairItems:
    """Per-pair quantities of one dictionary on N evaluation pairs, from one encoding pass.

    residual, r2, l0, l1 (N, 2): ‖x − x̂‖², 1 − ‖x − x̂‖²/‖x − x̄‖², ‖z‖_0, ‖z‖_1 of the image
    (column 0) and text (column 1) row; image_codes, text_codes (N, K) sparse; image_scores,
    text_scores (N, K) the probe scores x·D_i; image, text (N, d) the embeddings; hits_full,
    hits_bimodal (N,) recall@1 hits of the full and bimodal-only reconstructions (NaN outside
    the retrieval batches); atoms (K, d)."""

    residual: np.ndarray
    r2: np.ndarray
    l0: np.ndarray
    l1: np.ndarray
    image_codes: sparse.csr_matrix
    text_codes: sparse.csr_matrix
    image_scores: np.ndarray
    text_scores: np.ndarray
    image: np.ndarray
    text: np.ndarray
    hits_full: np.ndarray
    hits_bimodal: np.ndarray
    atoms: torch.Tensor

    @property
    def n_pairs(self) -> int:
        return len(self.residual)


def pair_hits(image: torch.Tensor, text: torch.Tensor, batch_size: int = RECALL_BATCH,
              seed: int = 0) -> np.ndarray:
    """(N,) per-pair recall@1 hit, (1{image→text rank 0} + 1{text→image rank 0}) / 2, inside the
    seeded batches of metrics/retrieval.py; NaN for pairs no batch holds. Their nanmean is
    ``recall_at_k(image, text, (1,), batch_size, seed)[1]``."""
    hits = np.full(len(image), np.nan)
    image, text = torch.as_tensor(image), torch.as_tensor(text)
    for index in batch_indices(len(image), batch_size, seed):
        idx = torch.from_numpy(index)
        forward = (correct_ranks(image[idx], text[idx]) < 1).double()
        backward = (correct_ranks(text[idx], image[idx]) < 1).double()
        hits[index] = ((forward + backward) / 2).numpy()
    return hits


@torch.no_grad()
def pair_items(model: Dictionary, image: np.ndarray, text: np.ndarray, tau: float,
               batch_size: int = 4096, seed: int = 0) -> PairItems:
    """:class:`PairItems` of a dictionary with a decoder on paired embeddings (N, d): one
    encoding pass keeps the codes; the full-sample bimodal mask (τ ≤ μ ≤ 1 − τ) then decides the
    bimodal-only reconstructions."""
    codes = {"i": [], "t": []}
    for _, _, image_codes, text_codes in paired_codes(model, image, text, batch_size):
        codes["i"].append(image_codes.cpu())
        codes["t"].append(text_codes.cpu())
    codes = {tag: torch.cat(batches) for tag, batches in codes.items()}
    mu = modality_score(codes["i"].double().square().mean(0).numpy(),
                        codes["t"].double().square().mean(0).numpy())
    keep = torch.as_tensor(bimodal_mask(mu, tau), device=model.device)
    mean = torch.as_tensor((image.mean(0) + text.mean(0)) / 2).double()
    per_row, recons = {}, {}
    for tag, x in (("i", image), ("t", text)):
        x = torch.as_tensor(np.asarray(x))
        full, ablated = [], []
        for start in range(0, len(x), batch_size):
            batch = codes[tag][start:start + batch_size].to(model.device)
            for out, rec in zip((full, ablated), decode_with_and_without(model, batch, keep)):
                out.append(rec.cpu())
        recons[tag] = (torch.cat(full), torch.cat(ablated))
        residual = (x.double() - recons[tag][0].double()).square().sum(-1)
        spread = (x.double() - mean).square().sum(-1).clamp_min(1e-12)
        per_row[tag] = (residual, 1 - residual / spread,
                        (codes[tag] != 0).sum(-1).double(),
                        codes[tag].abs().sum(-1, dtype=torch.float64))
    atoms = model.dictionary.detach().double().cpu()
    stacked = [torch.stack([per_row["i"][k], per_row["t"][k]], 1).numpy() for k in range(4)]
    image64, text64 = np.asarray(image, np.float64), np.asarray(text, np.float64)
    return PairItems(
        *stacked,
        image_codes=sparse.csr_matrix(codes["i"].double().numpy()),
        text_codes=sparse.csr_matrix(codes["t"].double().numpy()),
        image_scores=image64 @ atoms.numpy().T, text_scores=text64 @ atoms.numpy().T,
        image=image64, text=text64,
        hits_full=pair_hits(recons["i"][0], recons["t"][0], seed=seed),
        hits_bimodal=pair_hits(recons["i"][1], recons["t"][1], seed=seed), atoms=atoms)


def pair_weights(index: np.ndarray, n: int) -> np.ndarray:
    """(n,) float64 counts of each pair in the resample ``index`` (Σ = len(index))."""
    return np.bincount(index, minlength=n).astype(np.float64)


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    """Σ_n w_n v_n / Σ_n w_n over rows of ``values`` (N,) or (N, m) (all columns averaged),
    skipping NaN rows."""
    values = np.asarray(values, np.float64).reshape(len(weights), -1).mean(1)
    live = ~np.isnan(values)
    return float((weights[live] * values[live]).sum() / weights[live].sum())


def weighted_energy(codes: sparse.csr_matrix, weights: np.ndarray) -> np.ndarray:
    """(K,) E_k = Σ_n w_n z_nk² / Σ_n w_n of codes (N, K)."""
    return np.asarray(codes.multiply(codes).T @ weights).ravel() / weights.sum()


def weighted_cross_covariance(image_codes: sparse.csr_matrix, text_codes: sparse.csr_matrix,
                              weights: np.ndarray) -> torch.Tensor:
    """(K, K) float64 Σ = Z_Iᵀ diag(w) Z_T / Σ w of paired codes (N, K)."""
    total = (image_codes.T @ sparse.diags(weights) @ text_codes).toarray()
    return torch.from_numpy(total / weights.sum())


def weighted_accuracy(image_scores: np.ndarray, text_scores: np.ndarray, offset: np.ndarray,
                      weights: np.ndarray) -> np.ndarray:
    """(K,) probe accuracy acc_i = Σ_n w_n (1{s_I,ni > o_i} + 1{s_T,ni ≤ o_i}) / (2 Σ w) of the
    probes 1{(x − c)·D_i > 0}, from scores s = x·D_i (N, K) and offsets o_i = c·D_i (K,)."""
    correct = weights @ (image_scores > offset) + weights @ (text_scores <= offset)
    return correct / (2 * weights.sum())


def _weighted_ranks(atoms: torch.Tensor, energy: np.ndarray) -> dict[str, float]:
    spectrum = singular_values(energy_weighted(atoms, energy))
    return {"stable_rank_d_weighted": stable_rank_of_spectrum(spectrum),
            "effective_rank_d_weighted": effective_rank_of_spectrum(spectrum)}


def block_quantile_threshold(block: torch.Tensor, total: int, q: float) -> float:
    """:func:`crossmodal.geometry.bridge.quantile_threshold` of a (K, K) matrix that is zero
    outside ``block`` (its L × L live block), from the block alone: the ⌊q·total⌋-th smallest
    (at least the 1st) of the block's entries and total − L² zeros."""
    values = block.reshape(-1).sort().values
    k = max(1, int(q * total))
    negative = int((values < 0).sum())
    zeros = total - values.numel() + int((values == 0).sum())
    if k <= negative:
        return float(values[k - 1])
    if k <= negative + zeros:
        return 0.0
    return float(values[k - 1 - (total - values.numel())])


def live_bridge(sigma: torch.Tensor, cosines: torch.Tensor, total: int,
                covariance_quantile: float | None) -> torch.Tensor:
    """B_Σ on the live block (L, L) of bridge.modality_bridge: Σ (L, L) masked to |Σ| ≥ its
    covariance quantile over all ``total`` = K² entries (zeros outside the block counted), times
    the masked atom cosines (L, L). Dead latents carry no mass, so ρ from it is ρ of the full
    bridge, at O(L²) instead of O(K²) per resample."""
    bridge = sigma.clone()
    if covariance_quantile is not None:
        bridge[bridge.abs() < block_quantile_threshold(sigma, total, covariance_quantile)] = 0
    return bridge.mul_(cosines)


def _modality(items: PairItems, weights: np.ndarray, image_energy: np.ndarray,
              text_energy: np.ndarray, tau: float, name: str, fixed: dict) -> dict[str, float]:
    """ρ, FDA and p_acc of one resample under convention ``name``; ``fixed`` holds what depends
    on the atoms only (see :func:`pair_statistic`)."""
    rule = convention(name)
    mu = modality_score(image_energy, text_energy)
    if rule.probe_centre == "atoms":
        centre = atom_centre(items.atoms, (image_energy + text_energy) / 2)
    else:
        centre = (weights @ items.image + weights @ items.text) / (2 * weights.sum())
    accuracy = weighted_accuracy(items.image_scores, items.text_scores,
                                 items.atoms.numpy() @ centre, weights)
    live = fixed["live"]
    sigma = weighted_cross_covariance(items.image_codes[:, live], items.text_codes[:, live],
                                      weights)
    bridge = live_bridge(sigma, fixed["cosines"][name], items.image_codes.shape[1] ** 2,
                         rule.covariance_quantile)
    transport = fda(image_energy, text_energy, items.atoms, tau, rule, fixed["plain"],
                    fixed["thresholds"][name])
    return {"rho": functional_alignment(bridge, mu[live], tau), "fda": transport.fda,
            "p_acc": probe_result(accuracy, image_energy, text_energy, tau, rule).p_acc}


def pair_statistic(items: PairItems, tau: float, conventions: Sequence[str]
                   ) -> Callable[[np.ndarray], dict[str, float]]:
    """statistic(index) → the bootstrap metrics (module docstring) on the pairs ``index``; the
    first convention names the plain keys, the others are suffixed ``_<name>`` as in suite.py."""
    # atoms-only quantities, computed once: latents that fire on some pair (the others are dead
    # in every resample), their masked cosine block per convention, the plain D̄D̄ᵀ and its
    # atom quantile for FDA
    live = np.flatnonzero(np.asarray((abs(items.image_codes) + abs(items.text_codes)).sum(0))
                          .ravel() > 0)
    plain = atom_cosines(items.atoms)
    fixed = {"live": live, "plain": plain,
             "cosines": {name: bridge_cosines(items.atoms, name)[live][:, live]
                         for name in conventions},
             "thresholds": {name: None if convention(name).atom_quantile is None
                            else quantile_threshold(plain, convention(name).atom_quantile)
                            for name in conventions}}

    def statistic(index: np.ndarray) -> dict[str, float]:
        weights = pair_weights(index, items.n_pairs)
        image_energy = weighted_energy(items.image_codes, weights)
        text_energy = weighted_energy(items.text_codes, weights)
        mu = modality_score(image_energy, text_energy)
        full, bimodal = (weighted_mean(items.hits_full, weights),
                         weighted_mean(items.hits_bimodal, weights))
        out = {"mse": weighted_mean(items.residual, weights),
               "r2": weighted_mean(items.r2, weights), "l0": weighted_mean(items.l0, weights),
               "l1": weighted_mean(items.l1, weights), "dead_share": float(np.isnan(mu).mean()),
               "bimodal_energy_share": bimodal_energy_share(image_energy, text_energy, tau),
               "recall1_full": full, "recall1_bimodal": bimodal, "delta_r1": full - bimodal,
               **_weighted_ranks(items.atoms, (image_energy + text_energy) / 2)}
        for i, name in enumerate(conventions):
            suffix = "" if i == 0 else f"_{name}"
            out.update({f"{key}{suffix}": value for key, value in
                        _modality(items, weights, image_energy, text_energy, tau, name,
                                  fixed).items()})
        return out
    return statistic


def bootstrap_metrics(model: Dictionary, image: np.ndarray, text: np.ndarray, tau: float,
                      conventions: Sequence[str], resamples: int, seed: int, level: float,
                      batch_size: int = 4096) -> dict[str, float]:
    """``{"<metric> ±": half-width}`` of the pair bootstrap (module docstring) of a dictionary
    with a decoder on paired embeddings (N, d); B = ``resamples``, seeded by ``seed``."""
    model.eval()
    items = pair_items(model, image, text, tau, batch_size, seed)
    widths = bootstrap_half_widths(pair_statistic(items, tau, conventions), items.n_pairs,
                                   resamples, seed, level)
    return {interval_column(key): value for key, value in widths.items()}


def seed_half_widths(replicas: Sequence[Mapping[str, object]], level: float
                     ) -> dict[str, float]:
    """``{"<metric> ±": t half-width}`` over the metric dicts of n seed replicas (seed 0 first),
    for every key whose value is a number in all of them."""
    numeric = [key for key, value in replicas[0].items()
               if isinstance(value, (int, float, np.floating, np.integer))
               and not isinstance(value, bool)
               and all(isinstance(r.get(key), (int, float, np.floating, np.integer))
                       for r in replicas)]
    return {interval_column(key): seed_half_width([float(r[key]) for r in replicas], level)
            for key in numeric}


def metric_half_widths(model: Dictionary, metrics: Mapping[str, object],
                       replicas: Sequence[Mapping[str, object]], image: np.ndarray,
                       text: np.ndarray, tau: float, conventions: Sequence[str],
                       uncertainty: Mapping[str, float], seed: int,
                       batch_size: int = 4096) -> dict[str, object]:
    """The ``"<metric> ±"`` half-widths of one dictionary's ``metrics`` (seed 0) and where they
    come from: the t-interval over seed 0 and the ``replicas``' metric dicts when there are any,
    else the pair bootstrap (``uncertainty``: resamples, level); none for a dictionary without a
    decoder. Adds ``uncertainty_source`` ("seeds" | "pairs" | "none") and ``uncertainty_n``
    (replicas, or pairs resampled)."""
    level = uncertainty["level"]
    if replicas:
        return {**seed_half_widths([metrics, *replicas], level), SOURCE_COLUMN: "seeds",
                N_COLUMN: 1 + len(replicas)}
    if not model.has_decoder:
        return {SOURCE_COLUMN: "none", N_COLUMN: 0}
    widths = bootstrap_metrics(model, image, text, tau, conventions,
                               int(uncertainty["resamples"]), seed, level, batch_size)
    return {**widths, SOURCE_COLUMN: "pairs", N_COLUMN: len(image)}
