"""The Matching Pursuit SAE gates on hand-made metric, summary and ground-truth tables."""

import math

import pandas as pd

from crossmodal.dictionaries.gates import bimodal_concept_auc, dictionary_gates

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
# bimodal concepts a, b; an image-only concept c that the gate ignores
CONCEPTS = pd.DataFrame(
    [{"encoder": "toyclip", "method": m, "concept": c, "modality": mod, "auc": auc}
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
