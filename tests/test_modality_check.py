"""Paper A §2.2 modality-classification check on data whose label lives in known MDS groups."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from crossmodal.metrics.uncertainty import half_width_from_std
from crossmodal.monosemanticity.modality_check import (
    ICLR_TABLE1,
    RESULT_COLUMNS,
    TABLE_COLUMNS,
    classification_accuracy,
    classification_correct,
    classification_half_widths,
    modality_classification_check,
    modality_consistency,
    random_latents,
    zero_latents,
)

N_PAIRS, N_CLASSES = 600, 3
IMGD, TEXTD = np.arange(0, 4), np.arange(4, 8)
CROSSD, DEAD = np.arange(8, 22), np.arange(22, 24)
SEEDS = (0, 1, 2, 3, 4)


def _groups() -> np.ndarray:
    """(24,) MDS groups: 4 ImgD, 4 TextD, 14 CrossD (noise), 2 dead."""
    groups = np.empty(24, dtype=object)
    for name, latents in (("ImgD", IMGD), ("TextD", TEXTD), ("CrossD", CROSSD), ("dead", DEAD)):
        groups[latents] = name
    return groups


def _features(labels: np.ndarray, signal: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(N, 24) unit noise on the live latents, class means (±3) added on the ``signal`` latents
    only, dead latents zero."""
    features = rng.normal(size=(labels.size, 24))
    class_means = rng.choice([-3.0, 3.0], size=(N_CLASSES, signal.size))
    features[:, signal] += class_means[labels]
    features[:, DEAD] = 0.0
    return features


@pytest.fixture(scope="module")
def data():
    """Images carry the label only in ImgD, texts only in TextD."""
    rng = np.random.default_rng(7)
    labels = np.repeat(np.arange(N_CLASSES), N_PAIRS // N_CLASSES)
    return _features(labels, IMGD, rng), _features(labels, TEXTD, rng), _groups(), labels


@pytest.fixture(scope="module")
def table(data):
    return modality_classification_check(*data, seeds=SEEDS)


def _accuracy(table: pd.DataFrame, task: str, deletion: str) -> float:
    return float(table[(table["task"] == task) & (table["deletion"] == deletion)]
                 ["accuracy"].iloc[0])


def test_zero_latents_by_hand():
    features = np.arange(12.0).reshape(3, 4)
    zeroed = zero_latents(features, np.array([1, 3]))
    np.testing.assert_array_equal(zeroed, [[0, 0, 2, 0], [4, 0, 6, 0], [8, 0, 10, 0]])
    assert features[0, 1] == 1.0  # the input is untouched
    mask = np.array([True, False, False, False])
    np.testing.assert_array_equal(zero_latents(features, mask)[:, 0], 0.0)


def test_rare_classes_are_dropped_with_a_warning(data, caplog):
    image, _, _, labels = data
    labels = labels.copy()
    labels[0] = 99  # a class with a single member would break the stratified split
    with caplog.at_level(logging.WARNING):
        accuracy = classification_accuracy(image, labels, seed=0)
    assert 0.9 < accuracy <= 1.0
    assert "dropping 1 class" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        modality_classification_check(image, data[1], data[2], labels)
    assert sum("dropping 1 class" in record.message for record in caplog.records) == 1


def test_removing_a_group_hits_its_own_modality(table):
    chance = 1 / N_CLASSES
    assert _accuracy(table, "Image CLS", "None") > 0.95
    assert _accuracy(table, "Image CLS", "ImgD") < chance + 0.15
    assert _accuracy(table, "Image CLS", "TextD") > 0.95
    assert _accuracy(table, "Text CLS", "None") > 0.95
    assert _accuracy(table, "Text CLS", "TextD") < chance + 0.15
    assert _accuracy(table, "Text CLS", "ImgD") > 0.95


def test_random_baseline_same_count_distinct_draws_live_only(table):
    groups = _groups()
    draws = [random_latents(groups, 4, seed) for seed in SEEDS]
    assert all(draw.size == 4 and np.unique(draw).size == 4 for draw in draws)
    assert len({tuple(draw) for draw in draws}) > 1
    assert not np.isin(np.concatenate(draws), DEAD).any()
    all_live = random_latents(groups, 22, seed=0)  # every live latent, never a dead one
    np.testing.assert_array_equal(all_live, np.arange(22))
    random_rows = table[table["deletion"] == "Random"]
    group_rows = table[table["deletion"].isin(["ImgD", "TextD", "CrossD"])]
    np.testing.assert_array_equal(random_rows["n_latents"].to_numpy(),
                                  group_rows["n_latents"].to_numpy())
    assert (random_rows["random_seeds"] == len(SEEDS)).all()
    assert random_rows["std"].notna().all()


def test_table_has_the_papers_rows_and_columns(table):
    assert list(table.columns) == list(RESULT_COLUMNS)
    assert list(RESULT_COLUMNS) == ["task", "deletion", "n_latents", "accuracy", "accuracy ±",
                                    "std", "delta_accuracy", "delta_accuracy ±", "random_seeds"]
    order = ["None", "Random", "ImgD", "Random", "TextD", "Random", "CrossD"]
    assert table["deletion"].tolist() == order * 2
    assert table["task"].tolist() == ["Image CLS"] * 7 + ["Text CLS"] * 7
    assert table["n_latents"].tolist() == [0, 4, 4, 4, 4, 14, 14] * 2
    deterministic = table[table["deletion"] != "Random"]
    assert deterministic["std"].isna().all() and (deterministic["random_seeds"] == 0).all()


def test_delta_is_accuracy_minus_none_exactly(table):
    for task, rows in table.groupby("task"):
        none_accuracy = _accuracy(table, task, "None")
        np.testing.assert_array_equal(rows["delta_accuracy"].to_numpy(),
                                      rows["accuracy"].to_numpy() - none_accuracy)


def test_deterministic_under_the_same_seeds(data, table):
    pd.testing.assert_frame_equal(modality_classification_check(*data, seeds=SEEDS), table)


def test_consistency_true_and_false_when_groups_are_swapped(data, table):
    assert modality_consistency(table) == {
        "imgd_hurts_images": True, "textd_hurts_texts": True,
        "imgd_beats_random_on_images": True, "textd_beats_random_on_texts": True}
    image, text, groups, labels = data
    swapped = groups.copy()
    swapped[IMGD], swapped[TEXTD] = "TextD", "ImgD"
    reading = modality_consistency(modality_classification_check(image, text, swapped, labels))
    assert not any(reading.values())


def test_empty_group_gives_the_none_accuracy(data):
    image, text, groups, labels = data
    no_crossd = np.where(groups == "CrossD", "dead", groups)
    result = modality_classification_check(image, text, no_crossd, labels)
    empty = result[result["n_latents"] == 0]
    assert len(empty) == 6 and (empty["delta_accuracy"] == 0).all()


def test_too_few_seeds_raise(data):
    with pytest.raises(ValueError, match="at least 5 seeds"):
        modality_classification_check(*data, seeds=(0, 1))


def test_iclr_table1_reference():
    assert list(ICLR_TABLE1.columns) == list(TABLE_COLUMNS)
    assert len(ICLR_TABLE1) == 14
    assert _accuracy(ICLR_TABLE1, "Image CLS", "None") == 0.776
    assert _accuracy(ICLR_TABLE1, "Text CLS", "TextD") == 0.683
    assert ICLR_TABLE1["n_latents"].tolist() == [0, 426, 426, 554, 554, 44, 44] * 2
    assert all(modality_consistency(ICLR_TABLE1).values())


def test_classification_accuracy_is_the_share_of_correct_test_rows(data):
    image, _, _, labels = data
    correct = classification_correct(image, labels, seed=0)
    assert correct.dtype == bool and correct.shape == (N_PAIRS // 5,)   # 20 % test split
    assert classification_accuracy(image, labels, seed=0) == correct.mean()


def _hand_table(correct_none, correct_group, std=0.1, seeds=5):
    """One task: None, Random (std over ``seeds`` seeds) and ImgD rows."""
    table = pd.DataFrame({"task": ["Image CLS"] * 3, "deletion": ["None", "Random", "ImgD"],
                          "std": [np.nan, std, np.nan], "random_seeds": [0, seeds, 0]})
    return classification_half_widths(table, [np.asarray(correct_none), None,
                                              np.asarray(correct_group)], resamples=300, seed=1)


def test_random_rows_get_the_t_interval_over_seeds():
    out = _hand_table([1, 0, 1, 0], [1, 0, 1, 0], std=0.1, seeds=5)
    # t_{0.975, 4} = 2.776445, s = 0.1, n = 5: 2.776445 · 0.1 / √5 = 0.124166
    assert out.loc[1, "accuracy ±"] == pytest.approx(0.124166, abs=1e-6)
    assert out.loc[1, "delta_accuracy ±"] == out.loc[1, "accuracy ±"]
    assert out.loc[1, "accuracy ±"] == pytest.approx(half_width_from_std(0.1, 5))


def test_single_fit_rows_are_bootstrapped_over_test_pairs_and_paired_with_none():
    none = np.r_[np.ones(20), np.zeros(20)]
    # the same predictions: accuracy varies with the resample, Δ is exactly 0 in every one
    same = _hand_table(none, none)
    assert same.loc[2, "accuracy ±"] == same.loc[0, "accuracy ±"] > 0.05
    assert same.loc[2, "delta_accuracy ±"] == 0.0 and same.loc[0, "delta_accuracy ±"] == 0.0
    # the complement: Δ_b = (1 − a_b) − a_b = 1 − 2 a_b, so Δ's half-width is twice a_b's
    flipped = _hand_table(none, 1 - none)
    assert flipped.loc[2, "delta_accuracy ±"] == pytest.approx(
        2 * flipped.loc[0, "accuracy ±"])
    # all correct: no spread at all
    assert _hand_table(np.ones(10), np.ones(10)).loc[2, "accuracy ±"] == 0.0


def test_check_table_intervals(table):
    random_rows = table[table["deletion"] == "Random"]
    np.testing.assert_allclose(random_rows["accuracy ±"],
                               [half_width_from_std(s, len(SEEDS)) for s in random_rows["std"]])
    none_rows = table[table["deletion"] == "None"]
    assert (none_rows["delta_accuracy ±"] == 0).all()
    single = table[table["deletion"] != "Random"]
    assert single["accuracy ±"].notna().all() and (single["accuracy ±"] < 0.2).all()
    # a deletion that ruins the task (ImgD on images, accuracy near chance) has a wider
    # interval than one that changes nothing
    imgd = single[(single["task"] == "Image CLS") & (single["deletion"] == "ImgD")]
    textd = single[(single["task"] == "Image CLS") & (single["deletion"] == "TextD")]
    assert imgd["accuracy ±"].iloc[0] > textd["accuracy ±"].iloc[0]
