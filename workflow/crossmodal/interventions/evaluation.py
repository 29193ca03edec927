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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from crossmodal.dictionaries.base import Dictionary
from crossmodal.geometry.intervention import reconstructions
from crossmodal.interventions.gap_removal import GAP_METHODS, GapInputs, GapReference, remove_gap
from crossmodal.metrics.gap import (
    difference_of_means,
    linear_separability,
    ood_distances,
    relative_modality_gap,
    threshold_accuracy,
    wasserstein_gap,
)
from crossmodal.metrics.retrieval import recall_at_k


@dataclass(frozen=True)
class GapSettings:
    """Evaluation choices: OOD neighbour k, W subsample size, recall batch, seed."""

    ood_k: int = 10
    wasserstein_samples: int = 2000
    recall_batch: int = 256
    seed: int = 0


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


def score_clouds(image: np.ndarray, text: np.ndarray, settings: GapSettings
                 ) -> tuple[dict[str, float], tuple[np.ndarray, np.ndarray]]:
    """The gap measures and recall@1 of one pair of clouds (N, d), on the pairs with a direction
    (:func:`directed_pairs`; all NaN when at most ``ood_k`` remain), the share of the others
    (``undirected_pairs``), and the OOD distances (text → k-th nearest image, image → k-th
    nearest other image) for the histograms."""
    keep = directed_pairs(image, text)
    undirected = float(1 - keep.mean())
    if keep.sum() <= settings.ood_k:
        return ({**dict.fromkeys(GAP_MEASURES, float("nan")), "undirected_pairs": undirected},
                (np.empty(0), np.empty(0)))
    image, text = np.asarray(image)[keep], np.asarray(text)[keep]
    text_distances, image_distances = ood_distances(text, image, k=settings.ood_k)
    measures = {
        "dim": difference_of_means(image, text),
        "w": wasserstein_gap(image, text, settings.wasserstein_samples, settings.seed),
        "sep": linear_separability(image, text, seed=settings.seed),
        "rmg": relative_modality_gap(image, text),
        "ood": threshold_accuracy(text_distances, image_distances),
        "recall@1": recall_at_k(image, text, ks=(1,), batch_size=settings.recall_batch,
                                seed=settings.seed)[1],
        "undirected_pairs": undirected,
    }
    return measures, (image_distances, text_distances)


def gap_measures(inputs: GapInputs, reference: GapReference, settings: GapSettings,
                 methods: Sequence[str] = tuple(GAP_METHODS)
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Long frames: (method, measure, value) and (method, cloud, distance) for every method."""
    rows, distances = [], []
    for method in methods:
        image, text = remove_gap(method, inputs, reference)
        measures, (image_distances, text_distances) = score_clouds(image, text, settings)
        rows += [{"method": method, "measure": m, "value": v} for m, v in measures.items()]
        distances += [pd.DataFrame({"method": method, "cloud": cloud, "distance": values})
                      for cloud, values in (("image", image_distances),
                                            ("text", text_distances))]
    return pd.DataFrame(rows), pd.concat(distances, ignore_index=True)


def _unit(x: np.ndarray) -> np.ndarray:
    """Rows (N, d) scaled to unit norm; zero rows stay zero (cosine 0 with everything)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def zero_shot_accuracy(images: np.ndarray, labels: Sequence[str], class_names: Sequence[str],
                       class_vectors: np.ndarray) -> float:
    """Share of images (N, d) whose most cosine-similar class vector (C, d) is their label; a
    zero image (no direction) counts as a miss."""
    images, classes = _unit(images), _unit(class_vectors)
    directed = np.abs(images).max(1) > 0
    predicted = np.asarray(class_names)[(images @ classes.T).argmax(1)]
    return float(np.mean((predicted == np.asarray(labels)) & directed))


def probe_accuracy(train_images: np.ndarray, train_labels: Sequence[str],
                   test_images: np.ndarray, test_labels: Sequence[str], seed: int = 0) -> float:
    """Accuracy on the test images of a logistic regression fitted on the training images
    (rows L2-normalised first, as the zero-shot readout compares directions; zero rows stay 0)."""
    probe = LogisticRegression(max_iter=2000, random_state=seed)
    probe.fit(_unit(train_images), np.asarray(train_labels))
    return float(np.mean(probe.predict(_unit(test_images)) == np.asarray(test_labels)))


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
                            methods: Sequence[str] = tuple(GAP_METHODS), seed: int = 0
                            ) -> pd.DataFrame:
    """Long frame (method, measure, value) of zero-shot and linear-probe accuracy per method:
    the same transform is applied to the images, to the class vectors (as texts) and to the
    probe's training images."""
    rows = []
    for method in methods:
        images, _ = remove_gap(method, inputs, reference)
        _, classes = remove_gap(method, split.classes, reference)
        train_images, _ = remove_gap(method, split.train, reference)
        rows.append({"method": method, "measure": "zero_shot",
                     "value": zero_shot_accuracy(images, split.labels, split.class_names,
                                                 classes)})
        rows.append({"method": method, "measure": "probe",
                     "value": probe_accuracy(train_images, split.train_labels, images,
                                             split.labels, seed)})
    return pd.DataFrame(rows)
