"""The Matching Pursuit SAE gates on hand-made metric, summary and ground-truth tables."""

import math

import numpy as np
import pandas as pd
import torch

from crossmodal.dictionaries.evaluate import concept_aucs
from crossmodal.dictionaries.gates import bimodal_concept_auc, dictionary_gates
from crossmodal.modality.groundtruth import concept_recovery, modality_aucs
from crossmodal.store import Embeddings

METRICS = pd.DataFrame([
    {"encoder": "toyclip", "method": "sae", "stable_rank_d": 29.0, "r2": 0.96,
     "delta_r1": 0.1, "recall1_bimodal": 0.5},
    {"encoder": "toyclip", "method": "store", "stable_rank_d": 2.2, "r2": 0.99,
     "delta_r1": 0.9, "recall1_bimodal": 0.01},
])
SUMMARY = pd.DataFrame([
    {"encoder": "toyclip", "dictionary": "sae", "final_atom_cosine_to_init": 0.95},
    {"encoder": "toyclip", "dictionary": "store", "final_atom_cosine_to_init": 0.996},
])
# bimodal concepts a, b; an image-only concept c that the gate ignores. A bimodal concept's
# recovery auc is the mean of its image and caption AUCs (both equal here).
CONCEPTS = pd.DataFrame(
    [{"encoder": "toyclip", "method": m, "concept": c, "modality": mod, "auc_image": auc,
      "auc_text": auc if mod == "bimodal" else float("nan"), "auc": auc,
      "right_group": 1.0}
     for m, aucs in (("sae", (0.70, 0.72, 0.5)), ("store", (0.53, 0.53, 0.9)),
                     ("topk", (0.74, 0.70, 0.6)))
     for c, mod, auc in zip("abc", ("bimodal", "bimodal", "image"), aucs, strict=True)])


def _gate(table: pd.DataFrame, dictionary: str, gate: str) -> pd.Series:
    return table[(table["dictionary"] == dictionary) & (table["gate"] == gate)].iloc[0]


def test_bimodal_concept_auc_averages_the_bimodal_concepts_only():
    auc = bimodal_concept_auc(CONCEPTS)
    assert auc[("toyclip", "sae")] == 0.71
    assert auc[("toyclip", "topk")] == 0.72


def test_a_learned_dictionary_passes_and_an_example_store_fails():
    gates = dictionary_gates(METRICS, SUMMARY, CONCEPTS, {})
    learned = {g: _gate(gates, "sae", g)["passed"] for g in gates["gate"].unique()}
    assert learned["stable_rank_d"] == "pass" and learned["r2"] == "pass"
    # 0.71 ≥ 0.72 − 0.03
    auc = _gate(gates, "sae", "bimodal_concept_auc")
    assert auc["passed"] == "pass" and math.isclose(auc["threshold"], 0.69)
    assert _gate(gates, "store", "stable_rank_d")["passed"] == "FAIL"
    assert _gate(gates, "store", "bimodal_concept_auc")["passed"] == "FAIL"
    assert _gate(gates, "store", "r2")["passed"] == "pass"     # R² alone would hide it
    movement = _gate(gates, "store", "atom_cosine_to_init")
    assert movement["value"] == 0.996 and movement["passed"] == "n/a"


def test_thresholds_come_from_the_settings_and_a_missing_reference_is_not_judged():
    gates = dictionary_gates(METRICS, SUMMARY, CONCEPTS,
                             {"min_stable_rank": 30, "reference": "batchtopk"})
    assert _gate(gates, "sae", "stable_rank_d")["passed"] == "FAIL"
    assert _gate(gates, "sae", "bimodal_concept_auc")["passed"] == "n/a"
    off_toyworld = dictionary_gates(METRICS, SUMMARY, None, {})
    assert "bimodal_concept_auc" not in set(off_toyworld["gate"])


def _bimodal_recovery(method: str, text_codes: np.ndarray) -> pd.DataFrame:
    """Concept circle on pairs 0, 1 of 4; latent 0 finds it on images, ``text_codes`` (4, 2)."""
    image_codes = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    labels = np.array([[1], [1], [0], [0]], dtype=bool)
    aucs = modality_aucs(image_codes, text_codes, labels, ["bimodal"])
    features = pd.DataFrame({"group": ["bimodal", "text"], "mds_group": ["CrossD", "TextD"]})
    table = concept_recovery(aucs, ["gt_shape_circle"], ["shape"], ["bimodal"], features)
    return table.assign(encoder="toyclip", method=method)


def test_the_gate_reads_the_mean_of_the_image_and_caption_aucs():
    # the MP SAE finds circle on images only (latent 1 is 1 on every caption: AUC 0.5), so
    # (1 + 0.5) / 2 = 0.75; TopK's latent 0 finds it in both modalities: 1 − 0.03 = 0.97 → FAIL
    sae = _bimodal_recovery("sae", np.array([[0.0, 1.0]] * 4))
    topk = _bimodal_recovery("topk", np.array([[1.0, 1.0], [1.0, 1.0], [0.0, 1.0], [0.0, 1.0]]))
    assert list(sae[["auc_image", "auc_text", "auc"]].iloc[0]) == [1.0, 0.5, 0.75]
    table = pd.concat([sae, topk], ignore_index=True)
    assert bimodal_concept_auc(table)[("toyclip", "sae")] == 0.75
    gate = _gate(dictionary_gates(METRICS.iloc[:1], SUMMARY, table, {}), "sae",
                 "bimodal_concept_auc")
    assert gate["value"] == 0.75 and math.isclose(gate["threshold"], 0.97)
    assert gate["passed"] == "FAIL"


def test_unimodal_gates_take_the_worst_auc_and_the_right_group_share():
    rows = [("c", "image", 0.90, 1.0), ("d", "image", 0.85, 0.0), ("e", "text", 0.95, 1.0),
            ("f", "text", 0.82, 1.0), ("g", "text", 0.99, 1.0), ("a", "bimodal", 0.40, 0.0)]
    concepts = pd.DataFrame([{"encoder": "toyclip", "method": "sae", "concept": c,
                              "modality": mod, "auc": auc, "right_group": right}
                             for c, mod, auc, right in rows])
    gates = dictionary_gates(METRICS.iloc[:1], SUMMARY, concepts, {})
    worst = _gate(gates, "sae", "unimodal_concept_auc")
    # the bimodal concept's 0.40 is not a unimodal concept: the worst is f's 0.82
    assert worst["value"] == 0.82 and worst["threshold"] == 0.8 and worst["passed"] == "pass"
    right = _gate(gates, "sae", "unimodal_right_group")
    assert right["value"] == 0.8 and right["passed"] == "pass"           # 4 of 5
    strict = dictionary_gates(METRICS.iloc[:1], SUMMARY, concepts,
                              {"min_unimodal_auc": 0.9, "min_right_group": 0.9})
    assert _gate(strict, "sae", "unimodal_concept_auc")["passed"] == "FAIL"
    assert _gate(strict, "sae", "unimodal_right_group")["passed"] == "FAIL"


def test_the_recovered_share_needs_both_the_auc_and_the_right_group():
    # c passes both, d has the AUC in the wrong group, e is in the right group below 0.8:
    # 1 of 3 recovered; the linear detector's worst is d's 0.88 (the bimodal 0.60 is not counted)
    rows = [("c", "image", 0.90, 1.0, 0.99), ("d", "image", 0.85, 0.0, 0.88),
            ("e", "text", 0.70, 1.0, 0.97), ("a", "bimodal", 0.40, 0.0, 0.60)]
    concepts = pd.DataFrame([{"encoder": "toyclip", "method": "sae", "concept": c,
                              "modality": mod, "auc": auc, "right_group": right,
                              "linear_auc": linear}
                             for c, mod, auc, right, linear in rows])
    gates = dictionary_gates(METRICS.iloc[:1], SUMMARY, concepts, {})
    share = _gate(gates, "sae", "unimodal_recovered_share")
    assert math.isclose(share["value"], 1 / 3) and share["passed"] == "n/a"
    assert _gate(gates, "sae", "unimodal_linear_auc")["value"] == 0.88
    looser = dictionary_gates(METRICS.iloc[:1], SUMMARY, concepts, {"min_unimodal_auc": 0.7})
    assert math.isclose(_gate(looser, "sae", "unimodal_recovered_share")["value"], 2 / 3)
    without_probes = dictionary_gates(METRICS.iloc[:1], SUMMARY,
                                      concepts.drop(columns="linear_auc"), {})
    assert np.isnan(_gate(without_probes, "sae", "unimodal_linear_auc")["value"])


class _IdentityDictionary:
    """Codes = the embedding itself: latent k detects whatever coordinate k carries."""

    device = torch.device("cpu")

    def encode(self, x):
        return x


def test_concept_aucs_scores_each_concept_on_the_modalities_that_show_it():
    rng = np.random.default_rng(0)
    circle = np.arange(40) % 2 == 0
    stripes = np.arange(40) % 4 == 0
    pairs = pd.DataFrame({"pair_id": range(40), "gt_shape_circle": circle,
                          "gt_texture_stripes": stripes, "caption": "x"})
    image = np.stack([circle, stripes, rng.normal(size=40)], axis=1).astype(np.float32)
    text = np.stack([circle, rng.normal(size=40), rng.normal(size=40)],
                    axis=1).astype(np.float32)
    scored = concept_aucs(_IdentityDictionary(), Embeddings(pairs, image, text, {}),
                          pairs=1000, seed=0)
    assert scored.concepts == ["gt_shape_circle", "gt_texture_stripes"]
    assert scored.modalities == ["bimodal", "image"]
    # latent 0 is circle on both modalities, latent 1 is stripes on images
    assert scored.aucs["image"][0, 0] == 1.0 and scored.aucs["text"][0, 0] == 1.0
    assert scored.aucs["image"][1, 1] == 1.0
    assert np.isnan(scored.aucs["text"][1]).all()  # captions do not show an image-only concept
    no_concepts = Embeddings(pairs[["pair_id"]], image, text, {})
    assert concept_aucs(_IdentityDictionary(), no_concepts, pairs=10, seed=0) is None
