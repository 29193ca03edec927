"""Score learned latents against toyworld's ground truth (no paper has this).

For every concept c (a ``gt_<family>_<value>`` indicator of the pair) and latent k, the AUC of the
latent's activation z_k as a detector of c over both modalities: the 2N rows are the N image
codes and the N caption codes, each labelled with its pair's indicator. Rank form (ties averaged):

    AUC[c, k] = (Σ_{rows with c} rank_k(row) − P(P + 1)/2) / (P · Q),

P and Q the numbers of rows with and without c. A concept's best latent is argmax_k AUC[c, k]; it
lands in the right group when a bimodal concept's best latent is bimodal (μ rule) / CrossD (MDS),
an image-only concept's is image / ImgD, a text-only concept's is text / TextD.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import rankdata

EXPECTED_GROUPS: dict[str, tuple[str, str]] = {
    "bimodal": ("bimodal", "CrossD"),
    "image": ("image", "ImgD"),
    "text": ("text", "TextD"),
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
