"""Score learned latents against toyworld's ground truth (no paper has this).

For every concept c (a ``gt_<family>_<value>`` indicator of the pair) and latent k, the AUC of the
latent's activation z_k as a detector of c over both modalities: the 2N rows are the N image
codes and the N caption codes, each labelled with its pair's indicator. Rank form (ties averaged):

    AUC[c, k] = (Σ_{rows with c} rank_k(row) − P(P + 1)/2) / (P · Q),

P and Q the numbers of rows with and without c. A concept's best latent is argmax_k AUC[c, k]; it
lands in the right group when a bimodal concept's best latent is bimodal (μ rule) / CrossD (MDS),
an image-only concept's is image / ImgD, a text-only concept's is text / TextD. That pooled
best-latent score measures recoverability (is each concept somewhere in the dictionary?).

The per-latent, per-modality comparator (``latent_modality_auc``, ``modality_auc_summary``)
measures average monosemanticity instead, the quantity paper A's Mono estimates. Each latent is
scored on image rows and on caption rows separately, by its activation a(z) = |z|
(``mds.activation``), against the concepts that modality can show (``VISIBLE_FAMILIES``: images
bimodal + image-only families, captions bimodal + text-only families, both the attribute, whose
cues the config may put in either modality; a concept a modality does not show cannot raise a
latent's best AUC there). A latent's score in a modality is its best concept AUC on those rows;
a latent with a(z) = 0 on every row of a modality has no score there (NaN) and is left out of
that modality's mean rather than counted at 0.5. A model's number per modality is the mean over
its latents with a score; the model-level number is the mean of the two modalities. Pooling the
two modalities instead would give a latent that detects a bimodal concept perfectly on images,
and is silent on captions, AUC 0.75 (its caption rows tie at 0 with the negatives).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from crossmodal.modality.mds import activation

EXPECTED_GROUPS: dict[str, tuple[str, str]] = {
    "bimodal": ("bimodal", "CrossD"),
    "image": ("image", "ImgD"),
    "text": ("text", "TextD"),
}
VISIBLE_FAMILIES: dict[str, tuple[str, ...]] = {
    "image": ("bimodal", "image", "attribute"),
    "text": ("bimodal", "text", "attribute"),
}


def concept_auc(codes: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(C, K) AUC of each latent's activation (codes (M, K)) for each binary label (M, C).
    Labels that are constant over the rows get NaN."""
    ranks = rankdata(codes, axis=0)                       # (M, K), ties averaged
    labels = np.asarray(labels, dtype=np.float64)
    positives = labels.sum(0)                             # (C,)
    negatives = len(labels) - positives
    rank_sums = labels.T @ ranks                          # (C, K)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = (rank_sums - (positives * (positives + 1) / 2)[:, None]) / (
            positives * negatives)[:, None]
    auc[(positives == 0) | (negatives == 0)] = np.nan
    return auc


def best_latents(auc: np.ndarray, concepts: Sequence[str], family_of: Mapping[str, str],
                 modality_of: Mapping[str, str], features: pd.DataFrame) -> pd.DataFrame:
    """One row per concept: its best latent, that latent's AUC, μ-group and MDS-group, and whether
    they are the groups its family's modality expects (NaN for families with no expectation)."""
    best = np.nanargmax(np.where(np.isnan(auc), -np.inf, auc), axis=1)
    rows = []
    for c, concept in enumerate(concepts):
        latent = int(best[c])
        family = family_of[concept]
        modality = modality_of[family]
        group, mds_group = features["group"].iloc[latent], features["mds_group"].iloc[latent]
        expected = EXPECTED_GROUPS.get(modality)
        rows.append({
            "concept": concept, "family": family, "modality": modality, "latent": latent,
            "auc": float(auc[c, latent]), "group": group, "mds_group": mds_group,
            "right_group": float(group == expected[0]) if expected else np.nan,
            "right_mds_group": float(mds_group == expected[1]) if expected else np.nan,
        })
    return pd.DataFrame(rows)


def latent_concepts(auc: np.ndarray, concepts: Sequence[str]) -> pd.DataFrame:
    """One row per latent: the concept it detects best (``gt_concept``) and that AUC."""
    filled = np.where(np.isnan(auc), -np.inf, auc)
    best = filled.argmax(0)
    return pd.DataFrame({"gt_concept": np.asarray(concepts, dtype=object)[best],
                         "gt_auc": filled[best, np.arange(auc.shape[1])]})


def recovery_summary(per_concept: pd.DataFrame) -> pd.DataFrame:
    """Per family modality: concepts, mean best AUC and the share landing in the right group."""
    scored = per_concept.dropna(subset=["right_group"])
    return (scored.groupby("modality", sort=False)
            .agg(concepts=("concept", "size"), mean_auc=("auc", "mean"),
                 right_group=("right_group", "mean"), right_mds_group=("right_mds_group", "mean"))
            .reset_index())


def best_concept_auc(codes: np.ndarray, labels: np.ndarray, concepts: Sequence[str]
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Per latent of codes (N, K) on one modality's rows: the best AUC (K,) of a(z) = |z| over
    the binary labels (N, C) and that concept's name (K,); NaN / None for latents with a(z) = 0
    on every row, or when no label varies."""
    strength = activation(np.asarray(codes, dtype=np.float64))
    n_latents = strength.shape[1]
    auc_best, concept_best = np.full(n_latents, np.nan), np.full(n_latents, None, dtype=object)
    if len(concepts) == 0:
        return auc_best, concept_best
    auc = concept_auc(strength, labels)                                    # (C, K)
    filled = np.where(np.isnan(auc), -np.inf, auc)
    best = filled.argmax(0)
    value = filled[best, np.arange(n_latents)]
    scored = (strength > 0).any(0) & np.isfinite(value)
    auc_best[scored] = value[scored]
    concept_best[scored] = np.asarray(concepts, dtype=object)[best[scored]]
    return auc_best, concept_best


def latent_modality_auc(image_codes: np.ndarray, text_codes: np.ndarray, labels: np.ndarray,
                        concepts: Sequence[str], concept_modalities: Sequence[str]
                        ) -> pd.DataFrame:
    """One row per latent: ``gt_auc_{image,text}`` and ``gt_concept_{image,text}``, its best
    concept AUC on the N image rows (codes (N, K)) and on the N caption rows (N, K), each
    against the concepts of ``VISIBLE_FAMILIES`` of that modality. Row n of both code arrays
    and of ``labels`` (N, C) is one pair; ``concept_modalities`` (C,) are the concepts'
    family modalities ("bimodal", "image", "text", "attribute")."""
    labels, kinds = np.asarray(labels, dtype=bool), np.asarray(concept_modalities)
    columns = {}
    for modality, codes in (("image", image_codes), ("text", text_codes)):
        visible = np.isin(kinds, VISIBLE_FAMILIES[modality])
        auc, best = best_concept_auc(codes, labels[:, visible],
                                     list(np.asarray(concepts, dtype=object)[visible]))
        columns[f"gt_auc_{modality}"], columns[f"gt_concept_{modality}"] = auc, best
    return pd.DataFrame(columns)


def modality_auc_summary(per_latent: pd.DataFrame) -> dict[str, float]:
    """A model's ground truth from ``latent_modality_auc`` columns: ``groundtruth_auc_{m}`` =
    mean best-concept AUC over the latents scored on modality m (NaN ones left out),
    ``groundtruth_auc`` = (image + text) / 2, and ``gt_latents_{m}``, how many were scored."""
    image, text = per_latent["gt_auc_image"], per_latent["gt_auc_text"]
    return {"groundtruth_auc_image": float(image.mean()),
            "groundtruth_auc_text": float(text.mean()),
            "groundtruth_auc": float((image.mean() + text.mean()) / 2),
            "gt_latents_image": int(image.notna().sum()),
            "gt_latents_text": int(text.notna().sum())}
