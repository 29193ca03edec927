"""Per-family linear probes of the encoder table and their gates (crossmodal.encoder_probes)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import balanced_accuracy_score

from crossmodal.config import encoder_gate_errors
from crossmodal.encoder_probes import (
    CONCEPT_PROBE_COLUMNS,
    FAIL,
    NOT_GATED,
    PASS,
    PROBE_COLUMNS,
    chance_level,
    detector_auc,
    encoder_probe_table,
    encoder_probe_tables,
    expected_level,
    family_probes,
    gate_probes,
    gates_passed,
    linear_detector_auc,
    probe_tables,
    scalar_gates,
    shown_ceiling,
    unimodal_threshold,
)
from crossmodal.store import Embeddings
from crossmodal.world.concepts import FAMILY_BY_NAME

SETTINGS = {"probe_pairs": 1500, "max_iter": 300, "min_bimodal": 0.9,
            "min_unimodal": {"toydeclip": 0.8, "toyclip": 0.6}, "max_above_chance": 0.05,
            "min_gap": 0.5, "min_recall_at_1": 0.5, "min_zero_shot_shape": 0.9}
# texture only in the image embeddings, register only in the text, size in both
PLANTED = {"texture": "image", "register": "text", "size": "both"}
FAMILIES = [FAMILY_BY_NAME[name] for name in PLANTED]


def _planted_embeddings(n: int, dim: int, seed: int) -> Embeddings:
    """Gaussian noise (n, dim) per modality, plus 5 × a one-hot code of each planted family's
    value in its own block of dimensions of the modalities that carry it."""
    rng = np.random.default_rng(seed)
    pairs = pd.DataFrame({"split": np.where(np.arange(n) < n * 3 // 4, "train", "test")})
    vectors = {"image": rng.normal(size=(n, dim)), "text": rng.normal(size=(n, dim))}
    start = 0
    for name, where in PLANTED.items():
        values = FAMILY_BY_NAME[name].values
        codes = rng.integers(len(values), size=n)
        pairs[name] = np.asarray(values)[codes]
        for modality in ("image", "text"):
            if where in (modality, "both"):
                vectors[modality][np.arange(n), start + codes] += 5.0
        start += len(values)
    return Embeddings(pairs, vectors["image"], vectors["text"], {})


@pytest.fixture(scope="module")
def probes():
    embeddings = _planted_embeddings(n=2000, dim=24, seed=0)
    return family_probes(embeddings.split("train"), embeddings.split("test"), seed=0,
                         max_iter=300, families=FAMILIES).set_index(["family", "embedding"])


def test_chance_is_one_over_the_classes_whatever_their_frequencies():
    labels = np.array(["a"] * 90 + ["b"] * 9 + ["c"])
    assert chance_level(labels) == pytest.approx(1 / 3)
    constant = np.full(len(labels), "a")  # the majority guess: 90 % plain accuracy
    assert balanced_accuracy_score(labels, constant) == pytest.approx(chance_level(labels))


def test_a_family_planted_in_the_images_only_is_read_from_images_not_texts(probes):
    image, text = probes.loc[("texture", "image")], probes.loc[("texture", "text")]
    assert image["chance"] == text["chance"] == pytest.approx(1 / 5)  # none + 4 textures
    assert image["accuracy"] > 0.97
    assert abs(text["accuracy"] - text["chance"]) < 0.06


def test_text_only_and_bimodal_families_are_read_where_they_are_planted(probes):
    assert probes.loc[("register", "text"), "accuracy"] > 0.97
    assert abs(probes.loc[("register", "image"), "accuracy"] - 0.25) < 0.06
    assert probes.loc[("size", "image"), "accuracy"] > 0.97
    assert probes.loc[("size", "text"), "accuracy"] > 0.97
    assert (probes["classes"] == probes["chance"].rdiv(1).round()).all()


def test_expected_level_follows_the_family_modality():
    assert expected_level("bimodal", "text") == "high"
    assert expected_level("image", "image") == "high"
    assert expected_level("image", "text") == "chance"
    assert expected_level("text", "image") == "chance"
    assert expected_level("attribute", "image") == NOT_GATED


def _row(family, modality, embedding, accuracy, chance):
    return {"family": family, "family_modality": modality, "embedding": embedding,
            "classes": round(1 / chance), "accuracy": accuracy, "chance": chance}


def test_gate_columns_by_hand():
    probes = pd.DataFrame([
        _row("shape", "bimodal", "image", 0.95, 1 / 6),      # ≥ 0.90: pass
        _row("shape", "bimodal", "text", 0.85, 1 / 6),       # < 0.90: fail
        _row("texture", "image", "image", 0.81, 0.2),        # ≥ 0.80 (toydeclip): pass
        _row("texture", "image", "text", 0.26, 0.2),         # > 0.2 + 0.05: fail
        _row("emotion", "text", "image", 0.24, 0.2),         # ≤ 0.25: pass
        _row("emotion", "text", "text", 0.70, 0.2),          # < 0.80: fail
        _row("attribute", "attribute", "text", 0.9, 0.5),    # not gated
    ])
    table = gate_probes(probes, SETTINGS, "toydeclip")
    assert list(table.columns) == list(PROBE_COLUMNS)
    assert (table["encoder"] == "toydeclip").all()
    assert list(table["passed"]) == [PASS, FAIL, PASS, FAIL, PASS, FAIL, NOT_GATED]
    assert list(table["gate"]) == ["≥", "≥", "≥", "≤", "≤", "≥", ""]
    np.testing.assert_allclose(table["threshold"], [0.9, 0.9, 0.8, 0.25, 0.25, 0.8, np.nan])
    assert gates_passed(table["passed"]) == "3 of 6"
    # toyclip's unimodal bar is 0.60: emotion from texts at 0.70 passes
    assert gate_probes(probes, SETTINGS, "toyclip")["passed"].iloc[5] == PASS


def test_shown_ceiling_by_hand():
    # 5 classes, shown at rate 0.25: one class at recall 1, four at 0.25 → (1 + 1) / 5 = 0.4
    assert shown_ceiling(0.2, 0.25) == pytest.approx(0.4)
    assert shown_ceiling(0.5, 0.0) == 0.5            # never shown: chance
    assert shown_ceiling(1 / 3, 1.0) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="probability"):
        shown_ceiling(0.2, 1.5)


def test_the_other_modality_gate_allows_what_it_is_shown():
    probes = pd.DataFrame([_row("texture", "image", "text", 0.40, 0.2),
                           _row("emotion", "text", "image", 0.40, 0.2)])
    # texture named in 20 % of captions: ceiling 0.2 + 0.2 · 0.8 = 0.36, threshold 0.41
    table = gate_probes(probes, SETTINGS, "toyclip", {"texture": 0.2})
    np.testing.assert_allclose(table["ceiling"], [0.36, 0.2])
    np.testing.assert_allclose(table["threshold"], [0.41, 0.25])
    assert list(table["passed"]) == [PASS, FAIL]


def test_scalar_gates_by_hand():
    row = {"gap_dim": 0.4, "recall@1": 0.5, "zero_shot_shape": 0.89}
    assert scalar_gates(row, SETTINGS) == {"gate_gap_dim": FAIL, "gate_recall@1": PASS,
                                           "gate_zero_shot_shape": FAIL}
    assert scalar_gates({"gap_dim": 0.6, "recall@1": 0.7}, SETTINGS) == {
        "gate_gap_dim": PASS, "gate_recall@1": PASS}  # no zero-shot outside toyworld
    assert scalar_gates(row, {}) == {}


def test_unimodal_threshold_is_one_number_or_per_encoder():
    assert unimodal_threshold(0.7, "anything") == 0.7
    assert unimodal_threshold({"toyclip": 0.6}, "toyclip") == 0.6
    with pytest.raises(ValueError, match="min_unimodal.*'clip'"):
        unimodal_threshold({"toyclip": 0.6}, "clip")


def test_probe_table_fits_on_probe_pairs_and_gates_every_row(monkeypatch):
    embeddings = _planted_embeddings(n=800, dim=24, seed=1)
    fitted_on = []

    def spy(train, test, seed, max_iter, families):
        fitted_on.append(len(train.pairs))
        return probe_tables(train, test, seed, max_iter, families)

    monkeypatch.setattr("crossmodal.encoder_probes.probe_tables", spy)
    table = encoder_probe_table("toyclip", embeddings.split("train"), embeddings.split("test"),
                                {**SETTINGS, "probe_pairs": 300}, seed=0, families=FAMILIES)
    assert fitted_on == [300]
    assert len(table) == 2 * len(FAMILIES)
    assert set(table["passed"]) <= {PASS, FAIL}
    assert table.set_index(["family", "embedding"]).loc[("texture", "image"), "passed"] == PASS


def test_config_check_names_encoders_without_a_unimodal_threshold():
    config = {"encoders": {"toyclip": {}, "clip": {}},
              "encoder_gates": {"min_unimodal": {"toyclip": 0.6}}}
    assert "['clip']" in encoder_gate_errors(config)[0]
    config["encoder_gates"]["min_unimodal"] = 0.6
    assert encoder_gate_errors(config) == []


def test_each_concept_is_detected_where_its_family_is_planted():
    embeddings = _planted_embeddings(n=2000, dim=24, seed=0)
    _, concepts = probe_tables(embeddings.split("train"), embeddings.split("test"), seed=0,
                               max_iter=300, families=FAMILIES)
    auc = concepts.set_index(["concept", "embedding"])["auc"]
    # one row per value other than none, per embedding; none is a class, not a concept
    expected = {f"gt_{f.name}_{v}" for f in FAMILIES for v in f.concepts}
    assert set(concepts["concept"]) == expected
    assert len(concepts) == 2 * len(expected)
    for texture in FAMILY_BY_NAME["texture"].concepts:
        assert auc[(f"gt_texture_{texture}", "image")] > 0.99
        assert abs(auc[(f"gt_texture_{texture}", "text")] - 0.5) < 0.08
    assert auc[("gt_register_shout", "text")] > 0.99
    assert abs(auc[("gt_register_shout", "image")] - 0.5) < 0.08
    shares = concepts[concepts["embedding"] == "image"].groupby("family")["share"].sum()
    assert shares["register"] == pytest.approx(1.0)        # every caption has a register
    assert 0.0 < shares["texture"] < 1.0                   # some backgrounds are plain (none)


def test_a_linear_detector_ranks_its_value_above_the_others_by_hand():
    # value "b" sits at x = 1, the others at x = -1 and x = 3: no single direction puts b on
    # top of both, a multinomial probe's column would; the one-vs-rest score is monotone in x,
    # so the test AUC is that of x or −x: b ranks above a (−1) but below c (3) → 0.5
    x = np.array([[-1.0], [-1.1], [1.0], [1.1], [3.0], [3.1]])
    y = np.array(["a", "a", "b", "b", "c", "c"])
    auc = linear_detector_auc(x, y, x, y, "b", seed=0, max_iter=100)
    assert auc == pytest.approx(0.5)
    assert linear_detector_auc(x, y, x, y, "c", seed=0, max_iter=100) == 1.0
    assert np.isnan(linear_detector_auc(x, y, x, y, "d", seed=0, max_iter=100))
    assert detector_auc(np.array([0.1, 0.9, 0.5]), np.array([False, True, False])) == 1.0
    assert np.isnan(detector_auc(np.array([0.1, 0.9]), np.array([True, True])))


def test_the_concept_table_carries_the_encoder_and_its_columns():
    embeddings = _planted_embeddings(n=800, dim=24, seed=1)
    _, concepts = encoder_probe_tables("toyclip", embeddings.split("train"),
                                       embeddings.split("test"),
                                       {**SETTINGS, "probe_pairs": 300}, seed=0,
                                       families=FAMILIES)
    assert list(concepts.columns) == list(CONCEPT_PROBE_COLUMNS)
    assert (concepts["encoder"] == "toyclip").all()
