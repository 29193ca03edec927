"""Measure every gap-removal method on one split (paper B tables 9–12).

For each method of ``GAP_METHODS`` the transformed clouds (I', T') are scored with the gap
measures of ``crossmodal.metrics.gap`` — DiM, W, sep, RMG, OOD (texts as queries against the
image cloud, as figure 25) — and recall@1 within batches of 256 (both directions). On a labelled
split the same transform is applied to class embeddings (mean-prompt zero-shot, Radford et al.)
and to training images for a linear probe (table 11).

A transformed row can be exactly zero: without a pre-bias, the bimodal-only reconstruction
decode(z ⊙ δ) of a row on which no bimodal latent fires is 0, and it has no direction to compare.
Pairs with such a row (or a non-finite one) are left out of every measure of that method, and
their share is reported as the measure ``undirected_pairs``.

Uncertainty (column ``value ±``): the half-width of a seeded percentile bootstrap over the N
evaluation pairs (:func:`crossmodal.metrics.uncertainty.bootstrap_half_widths`), one resample
shared by every method and measure (paired). Each measure is recomputed from per-pair pieces of
the full-sample evaluation (:class:`CloudItems`), nothing is refitted or searched again: DiM and
RMG exactly from the resampled pairs, OOD and recall@1 from the pairs' k-th-NN distances and
in-batch hits (reference cloud and batches held fixed), sep from the held-out hits of the fitted
probe, W to first order from its optimal dual potentials (:func:`linearised_wasserstein`).
Zero-shot and linear-probe accuracy resample the labelled images (one resample for all methods).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from tqdm import tqdm

from crossmodal.dictionaries.base import Dictionary
from crossmodal.geometry.intervention import reconstructions
from crossmodal.interventions.gap_removal import GAP_METHODS, GapInputs, GapReference, remove_gap
from crossmodal.metrics.gap import (
    UnitPairs,
    difference_of_means,
    linearised_wasserstein,
    ood_distances,
    relative_modality_gap,
    resampled_difference_of_means,
    resampled_mean,
    separability_hits,
    threshold_accuracy,
    wasserstein_dual,
)
from crossmodal.metrics.retrieval import pair_hits, recall_at_k
from crossmodal.metrics.uncertainty import (
    LEVEL,
    RESAMPLES,
    bootstrap_counts,
    bootstrap_half_widths,
    interval_column,
    percentile_half_widths,
)
from crossmodal.store import Embeddings

VALUE_HALF_WIDTH = interval_column("value")


@dataclass(frozen=True)
class GapSettings:
    """Evaluation choices: OOD neighbour k, W subsample size, recall batch, seed, and the
    bootstrap behind the half-widths (``resamples`` = 0: no intervals, NaN)."""

    ood_k: int = 10
    wasserstein_samples: int = 2000
    recall_batch: int = 256
    seed: int = 0
    resamples: int = RESAMPLES
    level: float = LEVEL


def reconstruct(model: Dictionary, image: np.ndarray, text: np.ndarray, bimodal: np.ndarray,
                batch_size: int = 4096) -> GapInputs:
    """Î, T̂, Ĩ, T̃ (N, d) of paired embeddings (N, d) with the boolean bimodal mask δ (K,)."""
    model.eval()
    image_hat, image_tilde = reconstructions(model, image, bimodal, batch_size)
    text_hat, text_tilde = reconstructions(model, text, bimodal, batch_size)
    return GapInputs(image_hat.numpy(), text_hat.numpy(), image_tilde.numpy(),
                     text_tilde.numpy())


def directed_pairs(image: np.ndarray, text: np.ndarray) -> np.ndarray:
    """(N,) bool: pairs whose image row and text row (N, d) are both finite and non-zero."""
    def directed(x: np.ndarray) -> np.ndarray:
        return np.isfinite(x).all(1) & (np.abs(x).max(1) > 0)
    return directed(np.asarray(image)) & directed(np.asarray(text))


GAP_MEASURES = ("dim", "w", "sep", "rmg", "ood", "recall@1")


@dataclass(frozen=True)
class CloudItems:
    """Per-pair pieces of one method's gap measures, over its M directed pairs (``keep``, (N,)
    bool, selects them among the N evaluation pairs), from which :meth:`resampled` recomputes
    every measure for a bootstrap resample without refitting or searching again.

    differences (M, d) I − T; units the unit rows and pair cosines (RMG); text_distance,
    image_distance (M,) the k-th-NN distances of OOD (text → images, image → other images);
    w_image, w_text (M,) the optimal dual potentials of W (NaN: not in W's subsample);
    sep_image, sep_text (M,) the probe's held-out hits (NaN: not held out); recall (M,) the
    in-batch recall@1 hits (NaN: in no batch).
    """

    keep: np.ndarray
    differences: np.ndarray
    units: UnitPairs
    text_distance: np.ndarray
    image_distance: np.ndarray
    w_image: np.ndarray
    w_text: np.ndarray
    sep_image: np.ndarray
    sep_text: np.ndarray
    recall: np.ndarray

    def resampled(self, counts: np.ndarray) -> dict[str, float | np.ndarray]:
        """The measures of the resample drawing evaluation pair i ``counts[i]`` times (N,), or
        of B resamples at once (counts (B, N), each measure (B,)): DiM, RMG as of the drawn
        pairs; OOD the threshold accuracy of the drawn pairs' distances; recall@1 and sep the
        mean of the drawn hits; W linearised (its duals); undirected_pairs the drawn share of
        pairs left out. NaN where fewer than two directed pairs are drawn."""
        weights = np.atleast_2d(counts)
        c = weights[:, self.keep]
        drawn = c.sum(1)
        measures = {name: np.full(len(weights), np.nan) for name in GAP_MEASURES}
        measures["undirected_pairs"] = 1 - drawn / weights.sum(1)
        scored = drawn >= 2 if self.recall.size == c.shape[1] else np.zeros(len(c), bool)
        if scored.any():
            c = c[scored]
            for name, values in {
                "dim": resampled_difference_of_means(self.differences, c),
                "w": linearised_wasserstein(self.w_image, self.w_text, c),
                "sep": resampled_mean(np.concatenate([self.sep_image, self.sep_text]),
                                      np.concatenate([c, c], axis=1)),
                "rmg": self.units.relative_modality_gap(c),
                "ood": [threshold_accuracy(np.repeat(self.text_distance, row),
                                           np.repeat(self.image_distance, row)) for row in c],
                "recall@1": resampled_mean(self.recall, c),
            }.items():
                measures[name][scored] = values
        if np.ndim(counts) == 1:
            return {name: float(values[0]) for name, values in measures.items()}
        return measures


def _unscored(keep: np.ndarray) -> CloudItems:
    """Items of a method with too few directed pairs: every resampled measure but
    undirected_pairs is NaN."""
    empty = np.empty(0)
    return CloudItems(keep, np.empty((0, 1)),
                      UnitPairs(np.empty((0, 1)), np.empty((0, 1)), empty),
                      *(empty,) * 7)


def score_clouds(image: np.ndarray, text: np.ndarray, settings: GapSettings
                 ) -> tuple[dict[str, float], tuple[np.ndarray, np.ndarray]]:
    """The gap measures and recall@1 of one pair of clouds (N, d), on the pairs with a direction
    (:func:`directed_pairs`; all NaN when at most ``ood_k`` remain), the share of the others
    (``undirected_pairs``), and the OOD distances (text → k-th nearest image, image → k-th
    nearest other image) for the histograms."""
    measures, distances, _ = scored_clouds(image, text, settings)
    return measures, distances


def scored_clouds(image: np.ndarray, text: np.ndarray, settings: GapSettings
                  ) -> tuple[dict[str, float], tuple[np.ndarray, np.ndarray], CloudItems]:
    """:func:`score_clouds` and the :class:`CloudItems` its bootstrap resamples."""
    keep = directed_pairs(image, text)
    undirected = float(1 - keep.mean())
    if keep.sum() <= settings.ood_k:
        return ({**dict.fromkeys(GAP_MEASURES, float("nan")), "undirected_pairs": undirected},
                (np.empty(0), np.empty(0)), _unscored(keep))
    image, text = np.asarray(image)[keep], np.asarray(text)[keep]
    text_distances, image_distances = ood_distances(text, image, k=settings.ood_k)
    dual = wasserstein_dual(image, text, settings.wasserstein_samples, settings.seed)
    sep_image, sep_text = separability_hits(image, text, seed=settings.seed)
    measures = {
        "dim": difference_of_means(image, text),
        "w": dual.cost,
        "sep": float(np.nanmean(np.concatenate([sep_image, sep_text]))),
        "rmg": relative_modality_gap(image, text),
        "ood": threshold_accuracy(text_distances, image_distances),
        "recall@1": recall_at_k(image, text, ks=(1,), batch_size=settings.recall_batch,
                                seed=settings.seed)[1],
        "undirected_pairs": undirected,
    }
    items = CloudItems(keep, np.asarray(image, np.float64) - np.asarray(text, np.float64),
                       UnitPairs.of(image, text), text_distances, image_distances,
                       *dual.by_item(len(image)), sep_image, sep_text,
                       pair_hits(image, text, 1, settings.recall_batch, settings.seed))
    return measures, (image_distances, text_distances), items


def paired_half_widths(items: dict[str, CloudItems], n_pairs: int, settings: GapSettings
                       ) -> dict[tuple[str, str], float]:
    """``{(method, measure): half-width}`` of a bootstrap over the ``n_pairs`` evaluation pairs,
    each resample drawn once and shared by every method (:meth:`CloudItems.resampled`): a
    paired comparison of the methods. Empty when ``settings.resamples`` is 0.

    The resamples are those of :func:`bootstrap_half_widths` (same seed, same draws), evaluated
    in one batch per method as matrix products over their (B, N) counts."""
    if settings.resamples < 1:
        return {}
    counts = bootstrap_counts(n_pairs, settings.resamples, settings.seed)
    draws = {(method, measure): values for method, cloud in items.items()
             for measure, values in cloud.resampled(counts).items()}
    return percentile_half_widths(draws, settings.level)


def gap_measures(inputs: GapInputs, reference: GapReference, settings: GapSettings,
                 methods: Sequence[str] = tuple(GAP_METHODS), progress=None
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Long frames: (method, measure, value, value ±) and (method, cloud, distance) for every
    method; ``value ±`` is the half-width of :func:`paired_half_widths`."""
    rows, distances, items = [], [], {}
    for method in tqdm(methods, desc="gap-removal methods", file=progress,
                       disable=progress is None):
        image, text = remove_gap(method, inputs, reference)
        measures, (image_distances, text_distances), items[method] = scored_clouds(
            image, text, settings)
        rows += [{"method": method, "measure": m, "value": v} for m, v in measures.items()]
        distances += [pd.DataFrame({"method": method, "cloud": cloud, "distance": values})
                      for cloud, values in (("image", image_distances),
                                            ("text", text_distances))]
    frame = pd.DataFrame(rows)
    widths = paired_half_widths(items, len(inputs.image), settings)
    frame[VALUE_HALF_WIDTH] = [widths.get((r.method, r.measure), float("nan"))
                               for r in frame.itertuples()]
    return frame, pd.concat(distances, ignore_index=True)


def _unit(x: np.ndarray) -> np.ndarray:
    """Rows (N, d) scaled to unit norm; zero rows stay zero (cosine 0 with everything)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def zero_shot_hits(images: np.ndarray, labels: Sequence[str], class_names: Sequence[str],
                   class_vectors: np.ndarray) -> np.ndarray:
    """(N,) bool: whether image i (N, d) has its label as most cosine-similar class vector (C, d);
    a zero image (no direction) is a miss."""
    images, classes = _unit(images), _unit(class_vectors)
    directed = np.abs(images).max(1) > 0
    predicted = np.asarray(class_names)[(images @ classes.T).argmax(1)]
    return (predicted == np.asarray(labels)) & directed


def zero_shot_accuracy(images: np.ndarray, labels: Sequence[str], class_names: Sequence[str],
                       class_vectors: np.ndarray) -> float:
    """Share of images (N, d) whose most cosine-similar class vector (C, d) is their label; a
    zero image (no direction) counts as a miss (the mean of :func:`zero_shot_hits`)."""
    return float(np.mean(zero_shot_hits(images, labels, class_names, class_vectors)))


def probe_hits(train_images: np.ndarray, train_labels: Sequence[str],
               test_images: np.ndarray, test_labels: Sequence[str], seed: int = 0) -> np.ndarray:
    """(N_test,) bool: whether a logistic regression fitted on the training images (rows
    L2-normalised first, as the zero-shot readout compares directions; zero rows stay 0)
    predicts each test image's label."""
    probe = LogisticRegression(max_iter=2000, random_state=seed)
    probe.fit(_unit(train_images), np.asarray(train_labels))
    return probe.predict(_unit(test_images)) == np.asarray(test_labels)


def probe_accuracy(train_images: np.ndarray, train_labels: Sequence[str],
                   test_images: np.ndarray, test_labels: Sequence[str], seed: int = 0) -> float:
    """Accuracy on the test images of the probe of :func:`probe_hits`."""
    return float(np.mean(probe_hits(train_images, train_labels, test_images, test_labels, seed)))


def probe_and_evaluated(embeddings: Embeddings, split: str, probe_split: str,
                        probe_pairs: int, max_pairs: int, seed: int
                        ) -> tuple[Embeddings, Embeddings]:
    """(probe's training pairs, evaluated pairs) of table 11 from one dataset's embeddings.

    The evaluated pairs are ``max_pairs`` of ``split`` (seeded with ``seed``) and the probe
    trains on ``probe_pairs`` of ``probe_split`` (seeded with ``seed + 1``). When both are the
    same split (a dataset with labelled validation images only, as ImageNet val), the split's
    pairs are first divided by a seeded permutation: the probe draws from the first
    ``probe_pairs`` of it, the evaluation from the rest, so no image is in both."""
    if probe_split != split:
        return (embeddings.split(probe_split).subsample(probe_pairs, seed + 1),
                embeddings.split(split).subsample(max_pairs, seed))
    pool = embeddings.split(split)
    if len(pool.pairs) <= probe_pairs:
        raise ValueError(f"table 11 holds out {probe_pairs} probe pairs of split {split!r}, "
                         f"which has only {len(pool.pairs)}; lower interventions.probe_pairs "
                         "or set interventions.probe_split to another split")
    order = np.random.default_rng(seed + 1).permutation(len(pool.pairs))
    for_probe = np.zeros(len(pool.pairs), dtype=bool)
    for_probe[order[:probe_pairs]] = True
    return pool.subset(for_probe), pool.subset(~for_probe).subsample(max_pairs, seed)


@dataclass(frozen=True)
class LabelledSplit:
    """What table 11 classifies: evaluation images (as ``GapInputs.image``/``image_bimodal``) with
    labels, class vectors reconstructed as texts, and training images with labels for the probe."""

    labels: np.ndarray
    class_names: list[str]
    classes: GapInputs      # image fields unused; text = Ĉ, text_bimodal = C̃
    train: GapInputs        # text fields unused; image = Î_train, image_bimodal = Ĩ_train
    train_labels: np.ndarray


def classification_measures(inputs: GapInputs, reference: GapReference, split: LabelledSplit,
                            methods: Sequence[str] = tuple(GAP_METHODS), seed: int = 0,
                            resamples: int = RESAMPLES, level: float = LEVEL) -> pd.DataFrame:
    """Long frame (method, measure, value, value ±) of zero-shot and linear-probe accuracy per
    method: the same transform is applied to the images, to the class vectors (as texts) and to
    the probe's training images. ``value ±``: half-width of a seeded bootstrap over the labelled
    images, one resample shared by every method and both measures (the probe is not refitted)."""
    hits = {}
    for method in methods:
        images, _ = remove_gap(method, inputs, reference)
        _, classes = remove_gap(method, split.classes, reference)
        train_images, _ = remove_gap(method, split.train, reference)
        hits[method, "zero_shot"] = zero_shot_hits(images, split.labels, split.class_names,
                                                   classes).astype(float)
        hits[method, "probe"] = probe_hits(train_images, split.train_labels, images,
                                           split.labels, seed).astype(float)
    widths = (bootstrap_half_widths(lambda index: {key: h[index].mean() for key, h in hits.items()},
                                    len(split.labels), resamples, seed, level)
              if resamples > 0 else {})
    return pd.DataFrame([{"method": method, "measure": measure, "value": float(h.mean()),
                          VALUE_HALF_WIDTH: widths.get((method, measure), float("nan"))}
                         for (method, measure), h in hits.items()])
