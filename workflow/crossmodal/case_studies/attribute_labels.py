"""Attribute labels for case study 1 on real data (paper A appendix A.4.1).

Paper A labels cc3m images with a gender classifier (a ViT fine-tuned for
``image-classification``) and keeps as class references only images the classifier is sure of
(probability > 0.9). This module does the same for any binary attribute: every image goes
through ``transformers.pipeline("image-classification", model=...)`` (loaded offline), the top
prediction is mapped to one of the study's classes, and its probability decides ``confident``.

Output frame (one row per labelled pair): ``pair_id``, ``attribute`` (the study class), ``score``
(the classifier's probability of its top label), ``confident`` (score ≥ threshold). Pairs whose
top label maps to no study class are dropped and counted. On toyworld none of this is needed:
the attribute and its cue flags are ground truth in ``pairs.parquet``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pandas as pd
from PIL import Image

from crossmodal.encoders.transformers_backend import missing_weights_message, pretrained_offline
from crossmodal.errors import CrossmodalError

LABEL_COLUMNS = ["pair_id", "attribute", "score", "confident"]


def load_image_classifier(model: str, device: str = "cpu", batch_size: int = 32):
    """An offline ``image-classification`` pipeline for ``model`` (hub name in the local cache or
    a directory written by ``save_pretrained``); one-line ``MissingWeightsError`` when absent."""
    from transformers import AutoImageProcessor, AutoModelForImageClassification, pipeline

    network, processor = pretrained_offline(
        model, (AutoModelForImageClassification, AutoImageProcessor),
        lambda reason: missing_weights_message(model, None, reason))
    return pipeline("image-classification", model=network, image_processor=processor,
                    device=device, batch_size=batch_size)


def check_label_map(model: str, id2label: Mapping, label_map: Mapping[str, str],
                    classes: Sequence[str]) -> None:
    """Stop with one line unless the classifier's labels (``config.id2label`` values) reach
    every study class through ``label_map`` (compared case-insensitively) and the map names
    only study classes: a classifier whose labels are, say, ``LABEL_0`` / ``LABEL_1`` would
    otherwise drop every pair."""
    wrong = sorted({cls for cls in label_map.values() if cls not in classes})
    if wrong:
        raise CrossmodalError(f"case_studies.attribute.labeller.labels maps to {wrong}, which "
                              f"are not study classes {list(classes)}; fix the map")
    mapping = {label.lower(): cls for label, cls in label_map.items()}
    labels = [str(label) for label in id2label.values()]
    reached = {mapping[label.lower()] for label in labels if label.lower() in mapping}
    missing = [cls for cls in classes if cls not in reached]
    if missing:
        raise CrossmodalError(
            f"case_studies.attribute.labeller: no label of classifier {model!r} ({labels}) "
            f"maps to study class(es) {missing}; map its labels to {list(classes)} in "
            "labeller.labels")


def top_predictions(classifier, images: Iterable[Image.Image]) -> list[tuple[str, float]]:
    """(label, probability) of the top class of every image, in order."""
    return [(result[0]["label"], float(result[0]["score"]))
            for result in classifier(list(images), top_k=1)]


def attribute_labels(pair_ids: Sequence[str], predictions: Sequence[tuple[str, float]],
                     label_map: Mapping[str, str], threshold: float = 0.9
                     ) -> tuple[pd.DataFrame, int]:
    """The labels frame (module docstring) and the number of dropped pairs. ``label_map`` maps a
    classifier label (compared case-insensitively) to a study class."""
    if len(pair_ids) != len(predictions):
        raise ValueError(f"attribute_labels: {len(predictions)} predictions for "
                         f"{len(pair_ids)} pairs")
    mapping = {label.lower(): cls for label, cls in label_map.items()}
    rows = [(pair_id, mapping[label.lower()], score, score >= threshold)
            for pair_id, (label, score) in zip(pair_ids, predictions)
            if label.lower() in mapping]
    return pd.DataFrame(rows, columns=LABEL_COLUMNS), len(pair_ids) - len(rows)
