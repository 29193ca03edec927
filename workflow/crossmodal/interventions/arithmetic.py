"""Semantic vector arithmetic restricted to bimodal atoms (paper B §5 and appendix H).

For edit triplets (source image, target image, relative caption) with codes Z_src, Z_Δ and the
bimodal mask δ:

    Î_src = decode(Z_src),  Ĩ_src = decode(Z_src ⊙ δ),  Δ̂ = decode(Z_Δ),  Δ̃ = decode(Z_Δ ⊙ δ).

Paper B's §5 and appendix H disagree in notation, so every variant is computed:

    source  Q_src = Î_src            (baseline: the source image alone)
    delta   Q_Δ   = Δ̂                (baseline: the caption alone)
    sum     Q     = Î_src + Δ̂        (classical arithmetic)
    sae     Q_SAE = Ĩ_src + Δ̃        (appendix H: bimodal atoms only)
    code    Î_src + Δ̃                (the authors' code: bimodal part of the caption only)

Targets are the reconstructed target images T̂ = decode(Z_tgt). Retrieval is (R@10 + R@50)/2:
the share of queries whose own target ranks in the top 10 / 50 by cosine similarity, within
seeded random batches of 256 triplets (the authors' protocol) and over the whole gallery.

A query that is exactly zero has no direction (Q_SAE when neither the source image nor the
caption activates a bimodal atom): it is left out of its kind's OOD score and retrieval, like a
row of a gap table with an empty bimodal mask, and counted in ``undirected_queries``.

Uncertainty (columns ``ood ±``, ``retrieval_batched ±``, ``retrieval_gallery ±``): the half-width
of a seeded percentile bootstrap over the edit triplets, one resample shared by every query kind
(paired). Each resample reuses the per-triplet k-th-NN distances and target ranks of the full
evaluation (the target cloud, the gallery and the batches held fixed): OOD is the threshold
accuracy of the drawn triplets' query and target distances, retrieval the recall of their ranks.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from crossmodal.metrics.gap import ood_distances, threshold_accuracy
from crossmodal.metrics.retrieval import batch_indices, correct_ranks
from crossmodal.metrics.uncertainty import LEVEL, RESAMPLES, bootstrap_half_widths, interval_column

QUERY_LABELS: dict[str, str] = {
    "source": "Q_src = Î_src", "delta": "Q_Δ = Δ̂", "sum": "Q = Î_src + Δ̂",
    "sae": "Q_SAE = Ĩ_src + Δ̃", "code": "Î_src + Δ̃ (authors' code)",
}


def arithmetic_queries(source: np.ndarray, source_bimodal: np.ndarray, delta: np.ndarray,
                       delta_bimodal: np.ndarray) -> dict[str, np.ndarray]:
    """The five queries (N, d) from Î_src, Ĩ_src, Δ̂, Δ̃ (each (N, d)); keys as QUERY_LABELS."""
    return {"source": source, "delta": delta, "sum": source + delta,
            "sae": source_bimodal + delta_bimodal, "code": source + delta_bimodal}


def target_ranks(queries: np.ndarray, targets: np.ndarray, batch_size: int | None = 256,
                 seed: int = 0) -> np.ndarray:
    """Rank (0 = best) of target i among the targets for query i, by cosine similarity.
    ``batch_size=None``: the whole gallery; otherwise within seeded random batches (rows of a
    last incomplete batch are dropped, as in ``recall_at_k``). Returns one rank per ranked query."""
    queries, targets = torch.as_tensor(queries).float(), torch.as_tensor(targets).float()
    if batch_size is None:
        return correct_ranks(queries, targets).numpy()
    ranks = [correct_ranks(queries[idx], targets[idx])
             for idx in map(torch.from_numpy, batch_indices(len(queries), batch_size, seed))]
    return torch.cat(ranks).numpy()


def item_ranks(queries: np.ndarray, targets: np.ndarray, batch_size: int | None = 256,
               seed: int = 0) -> np.ndarray:
    """(N,) float: :func:`target_ranks` placed at their query's row, NaN for the queries in no
    batch (the dropped tail), so that resampled triplets keep their own rank."""
    ranks = np.full(len(queries), np.nan)
    if batch_size is None:
        ranks[:] = target_ranks(queries, targets, None)
        return ranks
    order = np.concatenate(batch_indices(len(queries), batch_size, seed))
    ranks[order] = target_ranks(queries, targets, batch_size, seed)
    return ranks


def retrieval_score(ranks: np.ndarray, ks: Sequence[int] = (10, 50)) -> float:
    """mean over k of recall@k = share of ranks < k; (R@10 + R@50)/2 by default. NaN ranks
    (queries in no batch, :func:`item_ranks`) are left out."""
    ranks = np.asarray(ranks, dtype=np.float64)
    ranks = ranks[~np.isnan(ranks)]
    return float(np.mean([(ranks < k).mean() for k in ks]))


ARITHMETIC_MEASURES = ("ood", "retrieval_batched", "retrieval_gallery")


def _query_scores(query_distances: np.ndarray, target_distances: np.ndarray,
                  batched: np.ndarray, gallery: np.ndarray) -> dict[str, float]:
    """The three measures of one query kind from its per-triplet pieces (all (n,); NaN for an
    undirected query, left out; NaN measures when no query is left)."""
    directed = ~np.isnan(query_distances)
    if not directed.any():
        return dict.fromkeys(ARITHMETIC_MEASURES, float("nan"))
    return {"ood": threshold_accuracy(query_distances[directed], target_distances),
            "retrieval_batched": retrieval_score(batched[directed]),
            "retrieval_gallery": retrieval_score(gallery[directed])}


def directed_rows(queries: np.ndarray) -> np.ndarray:
    """(N,) bool: the query rows with a direction (norm > 0); a zero row cannot be compared by
    cosine."""
    return np.linalg.norm(np.asarray(queries, dtype=np.float64), axis=1) > 0


def kind_pieces(query: np.ndarray, targets: np.ndarray, ood_k: int, batch_size: int,
                seed: int) -> tuple[np.ndarray, ...]:
    """(query k-th-NN distances, target k-th-NN distances, batched ranks, gallery ranks) of one
    query kind (each (N,) but the target distances (n_targets,)); NaN distance and ranks for
    the undirected queries (``directed_rows``)."""
    directed = directed_rows(query)
    probe = query[directed] if directed.any() else targets[:1]
    distances, target_distances = ood_distances(probe, targets, k=ood_k)
    query_distances = np.full(len(query), np.nan)
    if directed.any():
        query_distances[directed] = distances
    safe = np.where(directed[:, None], query, targets[:1])  # ranks of zero rows are dropped
    batched = item_ranks(safe, targets, batch_size, seed)
    gallery = item_ranks(safe, targets, None)
    batched[~directed] = np.nan
    gallery[~directed] = np.nan
    return query_distances, target_distances, batched, gallery


def arithmetic_measures(queries: dict[str, np.ndarray], targets: np.ndarray, ood_k: int = 10,
                        batch_size: int = 256, seed: int = 0, resamples: int = RESAMPLES,
                        level: float = LEVEL) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per query kind: OOD score against the targets T̂ (k-th-NN distances, paper B §H),
    (R@10 + R@50)/2 within batches of ``batch_size`` and over the whole gallery, each followed by
    its bootstrap half-width ``<measure> ±`` over the triplets (paired across query kinds,
    ``resamples`` = 0: NaN), and ``undirected_queries``, the zero queries left out. Also the
    long frame (cloud, distance) of the k-th-NN distances: each query kind, and the targets."""
    pieces, distances = {}, []
    target_distances = None
    for kind, query in queries.items():
        pieces[kind] = kind_pieces(query, targets, ood_k, batch_size, seed)
        query_distances, target_distances = pieces[kind][:2]
        distances.append(pd.DataFrame({"cloud": kind, "distance": query_distances}).dropna())
    distances.append(pd.DataFrame({"cloud": "target", "distance": target_distances}))

    def statistic(index: np.ndarray) -> dict[tuple[str, str], float]:
        return {(kind, measure): value for kind, arrays in pieces.items()
                for measure, value in _query_scores(*(a[index] for a in arrays)).items()}

    with warnings.catch_warnings():  # a kind with no directed query is NaN in every resample
        warnings.simplefilter("ignore", RuntimeWarning)
        widths = (bootstrap_half_widths(statistic, len(targets), resamples, seed, level)
                  if resamples > 0 else {})
    rows = []
    for kind, arrays in pieces.items():
        row = {"query": kind, "label": QUERY_LABELS[kind]}
        for measure, value in _query_scores(*arrays).items():
            row[measure] = value
            row[interval_column(measure)] = widths.get((kind, measure), float("nan"))
        row["undirected_queries"] = int(np.isnan(arrays[0]).sum())
        rows.append(row)
    return pd.DataFrame(rows), pd.concat(distances, ignore_index=True)


def example_edit(edits: pd.DataFrame, family: str = "colour", source: str = "red",
                 target: str = "blue") -> int:
    """Row index of the edit to show as figure 5 (ruby → sapphire): the first ``source`` →
    ``target`` edit of ``family`` when the edit table names values, else the first edit of that
    family, else row 0."""
    of_family = edits.index[edits.get("family", pd.Series(dtype=str)) == family]
    if {"source_value", "target_value"} <= set(edits.columns):
        exact = edits.index[(edits["family"] == family) & (edits["source_value"] == source)
                            & (edits["target_value"] == target)]
        if len(exact):
            return int(edits.index.get_loc(exact[0]))
    return int(edits.index.get_loc(of_family[0])) if len(of_family) else 0


def top_match(query: np.ndarray, targets: np.ndarray) -> tuple[int, np.ndarray]:
    """Index of the most cosine-similar target to one query (d,), and every target's rank."""
    similarity = (targets / np.linalg.norm(targets, axis=1, keepdims=True)) @ (
        query / np.linalg.norm(query))
    order = np.argsort(-similarity, kind="stable")
    ranks = np.empty(len(order), dtype=int)
    ranks[order] = np.arange(len(order))
    return int(order[0]), ranks
