"""What a trained Matching Pursuit SAE must have learned, as pass/fail gates.

A low loss can hide a dictionary that learned nothing: MP atoms started from training rows barely
move, and such a "dictionary" is a store of examples with R² near 1, the stable rank of the
embeddings themselves and latents that detect no concept. Each MP dictionary is therefore gated on

* ``stable_rank_d`` ≥ ``min_stable_rank`` — ‖D‖_F² / ‖D‖₂² of its atoms (K, d): atoms spread over
  many directions, not the few of the centred embeddings;
* ``r2`` ≥ ``min_r2`` — it still reconstructs;
* ``bimodal_concept_auc`` ≥ (the reference dictionary's, on the same encoder) − ``auc_margin`` —
  how well the dictionary recovers toyworld's bimodal concepts: the mean over them of each
  concept's recovery AUC ``auc`` = (AUC of its best latent on image rows + AUC of its best
  latent on caption rows) / 2 (``groundtruth.concept_recovery``), so a dictionary that detects
  them on one modality only scores 0.75, not 1; the reference is a TopK SAE of the same size;
* ``unimodal_concept_auc`` ≥ ``min_unimodal_auc`` — the worst image-only or text-only concept's
  recovery AUC (its best latent on the rows of the modality that shows it): every unimodal
  concept has a latent that detects it;
* ``unimodal_right_group`` ≥ ``min_right_group`` — the share of those concepts whose best latent
  sits in the μ-group of their modality (image-only concept → image group, text-only → text);

and reported, ungated: ``atom_cosine_to_init`` (mean_k cos(D_k, D₀_k) at the end of training),
``delta_r1`` and ``recall1_bimodal`` (recall@1 of the bimodal-only reconstructions); on toyworld
also ``unimodal_recovered_share``, the share of the unimodal concepts whose best latent reaches
``min_unimodal_auc`` *and* sits in its modality's μ-group (the looser reading of the unimodal
gates, over concepts rather than for each), and ``unimodal_linear_auc``, the worst unimodal
concept's linear-detector AUC on the encoder's embedding (``groundtruth.with_linear_detector``):
where that is high and ``unimodal_concept_auc`` low, the embedding carries the concept and the
dictionary has no latent for it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

DEFAULTS = {"architectures": ["mp"], "min_stable_rank": 10.0, "min_r2": 0.9,
            "reference": "topk", "auc_margin": 0.03, "min_unimodal_auc": 0.8,
            "min_right_group": 0.8}
UNIMODAL = ("image", "text")
REPORTED = ("atom_cosine_to_init", "delta_r1", "recall1_bimodal")
REPORTED_UNIMODAL = {"unimodal_recovered_share": "recovered",
                     "unimodal_linear_auc": "worst_linear_auc"}


def bimodal_concept_auc(concepts: pd.DataFrame) -> pd.Series:
    """Per (encoder, method): mean over the bimodal concepts of their recovery AUC, ``auc`` =
    (auc_image + auc_text) / 2, from the per-concept ground-truth table (columns encoder,
    method, modality, auc)."""
    bimodal = concepts[concepts["modality"] == "bimodal"]
    return bimodal.groupby(["encoder", "method"])["auc"].mean()


def unimodal_recovery(concepts: pd.DataFrame, min_auc: float = DEFAULTS["min_unimodal_auc"]
                      ) -> pd.DataFrame:
    """Per (encoder, method), over the image-only and text-only concepts of the per-concept
    table: ``worst_auc``, the smallest recovery ``auc``; ``right_group``, the mean of their
    ``right_group`` (the share whose best latent is in their modality's μ-group);
    ``recovered``, the share with auc ≥ ``min_auc`` and right_group = 1; ``worst_linear_auc``,
    the smallest ``linear_auc`` (NaN without that column)."""
    unimodal = concepts[concepts["modality"].isin(UNIMODAL)]
    unimodal = unimodal.assign(
        recovered=(unimodal["auc"] >= min_auc) & (unimodal["right_group"] == 1),
        linear_auc=unimodal.get("linear_auc", np.nan))
    return unimodal.groupby(["encoder", "method"]).agg(
        worst_auc=("auc", "min"), right_group=("right_group", "mean"),
        recovered=("recovered", "mean"), worst_linear_auc=("linear_auc", "min"))


def _gate(name: str, value: float, threshold: float, passed: bool | None) -> dict:
    return {"gate": name, "value": value, "threshold": threshold,
            "passed": "n/a" if passed is None else ("pass" if passed else "FAIL")}


def gates_of(encoder: str, method: str, metrics: Mapping, summary: Mapping,
             concept_auc: pd.Series | None, settings: Mapping,
             unimodal: pd.DataFrame | None = None) -> list[dict]:
    """The gate rows of one dictionary: its metric row (``metrics``), its ``dictionaries.csv``
    row (``summary``), the bimodal concept AUCs of every dictionary and their unimodal recovery
    (``unimodal_recovery``; both None off toyworld)."""
    rows = [_gate("stable_rank_d", metrics["stable_rank_d"], settings["min_stable_rank"],
                  metrics["stable_rank_d"] >= settings["min_stable_rank"]),
            _gate("r2", metrics["r2"], settings["min_r2"], metrics["r2"] >= settings["min_r2"])]
    if concept_auc is not None:
        own = concept_auc.get((encoder, method), np.nan)
        reference = concept_auc.get((encoder, settings["reference"]), np.nan)
        threshold = reference - settings["auc_margin"]
        rows.append(_gate("bimodal_concept_auc", own, threshold,
                          None if np.isnan(threshold) else bool(own >= threshold)))
    reported_unimodal = []
    if unimodal is not None and (encoder, method) in unimodal.index:
        recovery = unimodal.loc[(encoder, method)]
        worst, right = recovery["worst_auc"], recovery["right_group"]
        rows += [_gate("unimodal_concept_auc", worst, settings["min_unimodal_auc"],
                       bool(worst >= settings["min_unimodal_auc"])),
                 _gate("unimodal_right_group", right, settings["min_right_group"],
                       bool(right >= settings["min_right_group"]))]
        reported_unimodal = [_gate(name, recovery[column], np.nan, None)
                             for name, column in REPORTED_UNIMODAL.items()]
    reported = {"atom_cosine_to_init": summary.get("final_atom_cosine_to_init", np.nan),
                "delta_r1": metrics.get("delta_r1", np.nan),
                "recall1_bimodal": metrics.get("recall1_bimodal", np.nan)}
    rows += [_gate(name, reported[name], np.nan, None) for name in REPORTED]
    rows += reported_unimodal
    return [{"encoder": encoder, "dictionary": method, **row} for row in rows]


def dictionary_gates(metrics: pd.DataFrame, summary: pd.DataFrame,
                     concepts: pd.DataFrame | None, settings: Mapping) -> pd.DataFrame:
    """One row per (dictionary, gate) for the dictionaries in ``metrics`` (their metric rows,
    columns encoder, method, stable_rank_d, r2, …), with ``summary`` the dictionaries table
    (encoder, dictionary, final_atom_cosine_to_init) and ``concepts`` the per-concept
    ground-truth table. Columns: encoder, dictionary, gate, value, threshold, passed
    (pass / FAIL / n/a)."""
    settings = {**DEFAULTS, **settings}
    concept_auc = None if concepts is None else bimodal_concept_auc(concepts)
    unimodal = (None if concepts is None
                else unimodal_recovery(concepts, settings["min_unimodal_auc"]))
    by_dictionary = summary.set_index(["encoder", "dictionary"])
    rows = []
    for _, row in metrics.iterrows():
        key = (row["encoder"], row["method"])
        facts = by_dictionary.loc[key].to_dict() if key in by_dictionary.index else {}
        rows += gates_of(*key, row.to_dict(), facts, concept_auc, settings, unimodal)
    return pd.DataFrame(rows, columns=["encoder", "dictionary", "gate", "value", "threshold",
                                       "passed"])
