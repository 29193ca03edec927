"""Score learned latents against toyworld's ground truth (no paper has this).

Everything here comes from one AUC matrix per modality (``modality_aucs``). On the N image rows
and, separately, on the N caption rows, each latent's activation a(z) = |z| (``mds.activation``)
is ranked as a detector of each concept c (a ``gt_<family>_<value>`` indicator of the pair).
Rank form (ties averaged), P and Q the rows with and without c:

    AUC_m[c, k] = (Σ_{rows of m with c} rank_k(row) − P(P + 1)/2) / (P · Q),    (C, K) per m.

A modality m only scores the concepts it can show (``VISIBLE_FAMILIES``: images bimodal +
image-only families, captions bimodal + text-only families, both the attribute, whose cues the
config may put in either modality), and a latent with a(z) = 0 on every row of m is no detector
there; both are NaN in AUC_m. Pooling the two modalities instead would give a latent that
detects a concept perfectly on images, and is silent on captions, AUC 0.75 (its caption rows
tie at 0 with the negatives).

Two views of the same matrices:

* per latent (``latent_modality_auc``, ``modality_auc_summary``) — max_c AUC_m[c, k], the
  quantity paper A's Mono estimates (average monosemanticity);
* per concept (``concept_recovery``, ``recovery_summary``) — max_k AUC_m[c, k] on every modality
  m that shows c, and the concept's recovery AUC, the mean over those modalities: the image AUC
  of an image-only concept, the caption AUC of a text-only one, (image + caption) / 2 of a
  bimodal concept or the attribute. A best latent lands in the right group when it is in the μ /
  MDS group its concept's modality predicts (``EXPECTED_GROUPS``).

Beside each concept's recovery AUC stands the level one direction of the encoder's own embedding
reaches (``with_linear_detector``): the AUC of a supervised linear probe's score for the concept
on the same modalities, averaged the same way. A latent far below it has not singled out content
that the embedding does carry; a concept whose linear-detector AUC is itself low is barely in the
embedding, and no dictionary latent can be expected to find it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from crossmodal.modality.mds import activation

MODALITIES = ("image", "text")
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
    """(C, K) AUC of each latent's values (codes (M, K)) for each binary label (M, C).
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


def modality_auc(codes: np.ndarray, labels: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """(C, K) AUC_m of a(z) = |z| of one modality's codes (N, K) for the labels (N, C); NaN
    rows for concepts the modality does not show (``visible`` (C,) False) and NaN columns for
    latents with a(z) = 0 on every row."""
    strength = activation(np.asarray(codes, dtype=np.float64))
    auc = concept_auc(strength, labels)
    auc[~np.asarray(visible, dtype=bool)] = np.nan
    auc[:, ~(strength > 0).any(0)] = np.nan
    return auc


def modality_aucs(image_codes: np.ndarray, text_codes: np.ndarray, labels: np.ndarray,
                  concept_modalities: Sequence[str]) -> dict[str, np.ndarray]:
    """{"image": AUC_image, "text": AUC_text}, each (C, K) from ``modality_auc``. Row n of both
    code arrays (N, K) and of ``labels`` (N, C) is one pair; ``concept_modalities`` (C,) are
    the concepts' family modalities ("bimodal", "image", "text", "attribute")."""
    labels, kinds = np.asarray(labels, dtype=bool), np.asarray(concept_modalities)
    codes = {"image": image_codes, "text": text_codes}
    return {m: modality_auc(codes[m], labels, np.isin(kinds, VISIBLE_FAMILIES[m]))
            for m in MODALITIES}


def _argmax(auc: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Index and value of the largest non-NaN entry along ``axis``; (-1, NaN) where all NaN."""
    filled = np.where(np.isnan(auc), -np.inf, auc)
    best = filled.argmax(axis)
    value = np.take_along_axis(filled, np.expand_dims(best, axis), axis).squeeze(axis)
    scored = np.isfinite(value)
    return np.where(scored, best, -1), np.where(scored, value, np.nan)


def latent_modality_auc(aucs: Mapping[str, np.ndarray], concepts: Sequence[str]) -> pd.DataFrame:
    """One row per latent k: ``gt_auc_m`` = max_c AUC_m[c, k] and ``gt_concept_m`` its concept
    for m = image, text (NaN / None where the latent is silent on m), and ``gt_auc`` /
    ``gt_concept``, the better of the two."""
    names = np.append(np.asarray(concepts, dtype=object), None)   # index -1 → None
    columns = {}
    for m in MODALITIES:
        best, value = _argmax(aucs[m], axis=0)
        columns[f"gt_auc_{m}"], columns[f"gt_concept_{m}"] = value, names[best]
    frame = pd.DataFrame(columns)
    text_better = frame["gt_auc_text"] > frame["gt_auc_image"].fillna(-np.inf)
    frame["gt_auc"] = frame[["gt_auc_image", "gt_auc_text"]].max(axis=1)
    frame["gt_concept"] = frame["gt_concept_image"].where(~text_better, frame["gt_concept_text"])
    return frame


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


def _best_latents(auc: np.ndarray, features: pd.DataFrame, suffix: str) -> pd.DataFrame:
    """Per concept (rows of auc (C, K)): its best latent on one modality, that AUC and the
    latent's μ- and MDS-group (<NA> / NaN / None where no latent scores it)."""
    best, value = _argmax(auc, axis=1)
    group = np.append(features["group"].to_numpy(dtype=object), None)[best]
    mds_group = np.append(features["mds_group"].to_numpy(dtype=object), None)[best]
    return pd.DataFrame({f"latent_{suffix}": pd.array(np.where(best < 0, None, best),
                                                      dtype="Int64"),
                         f"auc_{suffix}": value, f"group_{suffix}": group,
                         f"mds_group_{suffix}": mds_group})


def _right_share(table: pd.DataFrame, column: str, expected: Sequence, shown: np.ndarray
                 ) -> np.ndarray:
    """(C,) share of the modalities showing each concept whose best latent's ``column`` group
    is the ``expected`` one (C,) (None → NaN: no expectation)."""
    expected = np.asarray(expected, dtype=object)
    right = np.stack([table[f"{column}_{m}"].to_numpy(dtype=object) == expected
                      for m in MODALITIES], axis=1)                  # (C, 2)
    share = (right & shown).sum(1) / shown.sum(1)
    return np.where(pd.isna(expected), np.nan, share)


def concept_recovery(aucs: Mapping[str, np.ndarray], concepts: Sequence[str],
                     families: Sequence[str], concept_modalities: Sequence[str],
                     features: pd.DataFrame) -> pd.DataFrame:
    """One row per concept c: on each modality m, its best latent ``latent_m`` = argmax_k
    AUC_m[c, k], ``auc_m``, ``group_m``, ``mds_group_m`` (missing where m does not show c);
    ``auc`` = mean of auc_m over the modalities showing c; ``right_group`` /
    ``right_mds_group`` = the share of those modalities whose best latent is in the group c's
    modality predicts (NaN for the attribute, which predicts none). ``features`` (K rows):
    the latents' ``group`` and ``mds_group``."""
    table = pd.concat([_best_latents(aucs[m], features, m) for m in MODALITIES], axis=1)
    kinds = np.asarray(concept_modalities)
    shown = np.stack([np.isin(kinds, VISIBLE_FAMILIES[m]) for m in MODALITIES], axis=1)
    per_modality = table[[f"auc_{m}" for m in MODALITIES]].to_numpy(dtype=np.float64)
    table["auc"] = np.where(shown, per_modality, 0.0).sum(1) / shown.sum(1)
    expected = [EXPECTED_GROUPS.get(kind, (None, None)) for kind in kinds]
    table["right_group"] = _right_share(table, "group", [e[0] for e in expected], shown)
    table["right_mds_group"] = _right_share(table, "mds_group", [e[1] for e in expected], shown)
    table.insert(0, "modality", kinds)
    table.insert(0, "family", list(families))
    table.insert(0, "concept", list(concepts))
    return table


def with_linear_detector(per_concept: pd.DataFrame, probes: pd.DataFrame) -> pd.DataFrame:
    """``per_concept`` (rows of ``concept_recovery`` with an ``encoder`` column) with
    ``linear_auc_image`` / ``linear_auc_text``, the AUC of the encoder's linear probe score for
    the concept on each modality that shows it (``probes``: encoder, concept, embedding, auc,
    from ``encoder_probes.probe_tables``), and ``linear_auc``, their mean over those modalities
    (the same average as ``auc``); NaN where no probe row exists."""
    columns = [f"linear_auc_{m}" for m in MODALITIES]
    table = per_concept.drop(columns=[*columns, "linear_auc"], errors="ignore")
    for m, column in zip(MODALITIES, columns):
        on_m = probes[probes["embedding"] == m].set_index(["encoder", "concept"])["auc"]
        keys = pd.MultiIndex.from_frame(table[["encoder", "concept"]])
        table[column] = on_m.reindex(keys).to_numpy(dtype=np.float64)
    shown = np.stack([table["modality"].isin(VISIBLE_FAMILIES[m]).to_numpy()
                      for m in MODALITIES], axis=1)                     # (C, 2)
    values = np.where(shown, table[columns].to_numpy(dtype=np.float64), np.nan)
    table[columns] = values
    table["linear_auc"] = np.where(shown, values, 0.0).sum(1) / shown.sum(1)  # NaN stays NaN
    return table


def recovery_summary(per_concept: pd.DataFrame) -> pd.DataFrame:
    """Per concept modality: concepts, mean ``auc_image`` / ``auc_text`` over them (NaN for a
    modality that does not show them), ``mean_auc`` (mean recovery AUC), ``linear_auc`` (mean
    linear-detector AUC, NaN without it) and the right-group shares (means of ``right_group`` /
    ``right_mds_group``)."""
    if "linear_auc" not in per_concept:
        per_concept = per_concept.assign(linear_auc=np.nan)
    return (per_concept.groupby("modality", sort=False)
            .agg(concepts=("concept", "size"), auc_image=("auc_image", "mean"),
                 auc_text=("auc_text", "mean"), mean_auc=("auc", "mean"),
                 linear_auc=("linear_auc", "mean"), right_group=("right_group", "mean"),
                 right_mds_group=("right_mds_group", "mean"))
            .reset_index())
