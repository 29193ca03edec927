"""Case study 1 (crossmodal.case_studies.attribute): removal sets, classifiers, tables, shares."""

import numpy as np
import pandas as pd
import pytest

from crossmodal.case_studies.attribute import (
    ModalityData,
    ModalityOutcomes,
    accuracy_drops,
    asymmetry_verdict,
    attribute_study,
    bucket_cue_share,
    bucket_words,
    class_references,
    decode_without,
    drop_half_widths,
    has_cue_word,
    nearest_reference,
    paired_drop,
    random_active,
    removal_counts,
    removal_masks,
    share_buckets,
    study_frame,
    study_outcomes,
    table1,
    table2,
    top_group_share,
    toyworld_cue_words,
)
from crossmodal.dictionaries.identity import IdentityDictionary

GROUPS = np.array(["ImgD", "ImgD", "ImgD", "TextD", "TextD", "CrossD", "dead", "CrossD"])
# Row 0: ImgD active {0: .1, 1: .9, 2: .5}, TextD {3: .2, 4: .3} → n = 2.
# Row 1: ImgD {2: .4}, TextD {3: .7, 4: .6} → n = 1. Row 2: no TextD active → n = 0.
CODES = np.array([[0.1, 0.9, 0.5, 0.2, 0.3, 1.0, 0.0, 0.0],
                  [0.0, 0.0, 0.4, 0.7, 0.6, 0.0, 0.0, 0.8],
                  [0.3, 0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0]])


def test_removal_count_is_the_smaller_active_group_of_each_input():
    np.testing.assert_array_equal(removal_counts(CODES, GROUPS), [2, 1, 0])


def test_group_removal_zeroes_the_strongest_active_latents_of_each_input():
    masks = removal_masks(CODES, GROUPS, seeds=[0])
    assert [np.flatnonzero(row).tolist() for row in masks["ImgD"][0]] == [[1, 2], [2], []]
    assert [np.flatnonzero(row).tolist() for row in masks["TextD"][0]] == [[3, 4], [3], []]


def test_random_removal_takes_n_active_latents_seeded():
    seeds = list(range(20))
    masks = removal_masks(CODES, GROUPS, seeds)["Random"]
    for mask in masks:
        np.testing.assert_array_equal(mask.sum(1), [2, 1, 0])
        assert not (mask & (CODES <= 0)).any()          # only active latents
    assert len({m.tobytes() for m in masks}) > 1         # the draw changes with the seed
    np.testing.assert_array_equal(random_active(CODES, np.array([2, 1, 0]), 7), masks[7])
    # every active latent of row 0 (6 of them) is drawn by some seed
    assert set(np.flatnonzero(np.any([m[0] for m in masks], axis=0))) == {0, 1, 2, 3, 4, 5}


def test_random_removal_of_all_active_latents_takes_them_all():
    codes = np.array([[0.0, 0.2, 0.0, 0.3]])
    np.testing.assert_array_equal(random_active(codes, np.array([2]), 0), [[0, 1, 0, 1]])


def test_zero_mask_removes_exactly_the_requested_latents():
    codes = np.arange(1.0, 9.0).reshape(1, 8).astype(np.float32)
    decoded = decode_without(IdentityDictionary(8), codes, np.array([1, 4]))
    np.testing.assert_array_equal(decoded, [[1, 0, 3, 4, 0, 6, 7, 8]])
    per_row = np.zeros((2, 8), dtype=bool)
    per_row[0, 1], per_row[1, 7] = True, True
    decoded = decode_without(IdentityDictionary(8), np.vstack([codes, codes]), per_row)
    np.testing.assert_array_equal(decoded, [[1, 0, 3, 4, 5, 6, 7, 8], [1, 2, 3, 4, 5, 6, 7, 0]])


def test_nearest_reference_by_hand():
    x = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.2, 0.8]])
    labels = np.array(["a", "a", "b", "b"])
    references = class_references(x, labels, np.array([True, False, True, False]), ["a", "b"])
    np.testing.assert_allclose(references, [[1, 0], [0, 1]])
    assert nearest_reference(np.array([[0.6, 0.4], [0.1, 0.3]]), references,
                             ["a", "b"]).tolist() == ["a", "b"]


def test_study_finds_the_modality_that_carries_each_class():
    # 4 latents: 0 ImgD, 1 TextD, 2–3 CrossD noise. Images carry "a" on latent 0, texts carry "b"
    # on latent 1 — removing ImgD from images must hurt, removing TextD from images must not.
    rng = np.random.default_rng(0)
    n = 400
    labels = np.where(rng.random(n) < 0.5, "a", "b")
    image = np.abs(rng.normal(0, 0.1, (n, 4))).astype(np.float32)
    text = image.copy()
    image[:, 0] += np.where(labels == "a", 1.0, 0.0)
    text[:, 1] += np.where(labels == "b", 1.0, 0.0)
    groups = np.array(["ImgD", "TextD", "CrossD", "CrossD"])
    data = {m: ModalityData(x, labels, np.ones(n, bool), x, labels)
            for m, x in (("image", image), ("text", text))}
    study = attribute_study(IdentityDictionary(4), data, groups, ["a", "b"],
                            seeds=[0, 1, 2, 3, 4])
    drops = accuracy_drops(study)
    first = table1(drops).set_index(["classifier", "input"])
    assert first.loc[("probe", "image"), "w/o ImgD"] > 30
    assert abs(first.loc[("probe", "image"), "w/o TextD"]) < 5
    assert first.loc[("probe", "text"), "w/o TextD"] > 30
    assert first.loc[("probe", "image"), "w/o ImgD (paper)"] == 5.87
    none = drops[(drops["removal"] == "None")]
    assert (none["drop_pp"] == 0).all() and (none["n_removed"] == 0).all()
    # every row has latents 0 and 1 active (|N(0, 0.1)| > 0), so n_i = 1 everywhere
    assert (first["mean n removed"] == 1).all()
    removed = drops[drops["removal"] != "None"]["n_removed"]
    assert (removed == 1).all()


def test_table2_and_verdict_by_hand():
    drops = pd.DataFrame({
        "modality": ["image", "text", "image", "text"], "classifier": ["probe"] * 4,
        "class": ["day", "day", "night", "night"], "removal": ["ImgD", "TextD", "ImgD", "TextD"],
        "accuracy": [0, 0, 0, 0], "drop_pp": [10.0, 2.0, 1.0, 8.0],
        "n_removed": [1.5, 2.0, 0.5, 3.0]})
    second = table2(drops, ["day", "night"], {"day": "female", "night": "male"})
    assert second["w/o ImgD (paper)"].tolist() == [17.65, 5.64]
    assert second["mean n removed (image input)"].tolist() == [1.5, 0.5]
    assert second["mean n removed (text input)"].tolist() == [2.0, 3.0]
    verdict = asymmetry_verdict(second, {"day": {"image": 0.9, "text": 0.3},
                                         "night": {"image": 0.3, "text": 0.9}})
    assert verdict["found"].tolist() == ["image", "text"]
    assert verdict["recovered"].all()
    flipped = asymmetry_verdict(second, {"day": {"image": 0.3, "text": 0.9},
                                         "night": {"image": 0.9, "text": 0.3}})
    assert not flipped["recovered"].any()


def test_top_group_share_counts_only_firing_latents():
    codes = np.array([[0.9, 0.8, 0.0, 0.7], [0.0, 0.0, 0.0, 0.0], [0.1, 0.0, 0.5, 0.0]])
    groups = np.array(["ImgD", "TextD", "ImgD", "CrossD"])
    shares = top_group_share(codes, groups, "ImgD", top=3)
    assert shares[0] == pytest.approx(1 / 3) and np.isnan(shares[1]) and shares[2] == 1.0


def test_share_buckets_and_bucket_words():
    shares = np.array([0.1, 0.2, 0.3, 0.4, np.nan])
    buckets = share_buckets(shares, 2)
    assert buckets.tolist() == [0, 0, 1, 1, -1]
    words = bucket_words(["a red star at night", "red circle", "blue star", "blue blue square",
                          "x"], buckets, shares, ["night"], top=2)
    assert words["top_words"].tolist() == ["red, star", "blue, star"]
    assert words["mean_share"].tolist() == pytest.approx([0.15, 0.35])


# ---------------------------------------------------------------- uncertainty


def test_paired_drop_by_hand():
    before = np.array([1.0, 1.0, 0.0, 1.0])
    after = np.array([[1.0, 0.0, 0.0, 1.0]])
    everything = np.ones(4, dtype=bool)
    assert paired_drop(before, after, everything, np.ones(4), np.ones(1)) == pytest.approx(25.0)
    # multiplicities (2, 1, 0, 1) on items 0–2: before 3/3, after 2/3 → 33.3 pp
    chosen = np.array([True, True, True, False])
    assert paired_drop(before, after, chosen, np.array([2.0, 1, 0, 1]), np.ones(1)) == \
        pytest.approx(100 / 3)
    # two seed replicas weighted ½ each: after = ½ · ¾ + ½ · 0 → drop 75 − 37.5
    seeds = np.array([[1.0, 1, 0, 1], [0.0, 0, 0, 0]])
    assert paired_drop(before, seeds, everything, np.ones(4), np.array([0.5, 0.5])) == \
        pytest.approx(37.5)
    assert np.isnan(paired_drop(before, after, chosen, np.array([0.0, 0, 0, 1]), np.ones(1)))


def _outcomes(before, after, random, labels):
    return {"image": ModalityOutcomes(
        labels=np.asarray(labels), seeds={"None": [0], "ImgD": [0], "Random": [0, 1]},
        correct={("None", "probe"): before[None], ("ImgD", "probe"): after[None],
                 ("Random", "probe"): random},
        n_removed={r: np.zeros((len(s), len(labels))) for r, s in
                   {"None": [0], "ImgD": [0], "Random": [0, 1]}.items()})}


def _widths(outcomes, resamples=200):
    frame = drop_half_widths(outcomes, ["a", "b"], resamples=resamples, seed=5)
    return frame.set_index(["classifier", "class", "removal"])["drop_pp ±"]


def test_paired_bootstrap_of_an_unchanged_accuracy_has_width_zero():
    # half the items right at random, the removal changes no prediction: every resample's drop
    # is exactly 0 (an unpaired bootstrap of the two accuracies would give ~±10 pp at n = 100)
    rng = np.random.default_rng(0)
    before = rng.random(100) < 0.5
    labels = np.where(rng.random(100) < 0.5, "a", "b")
    widths = _widths(_outcomes(before, before.copy(), np.stack([before, before]), labels))
    assert (widths == 0).all() and len(widths) == 3 * 3   # None, ImgD, Random × all, a, b


def test_paired_bootstrap_width_of_a_binomial_drop_and_of_the_seeds():
    n = 400
    labels = np.array(["a", "b"] * (n // 2))
    before = np.ones(n, dtype=bool)
    after = np.arange(n) % 4 < 2                    # half right: drop 50 pp on every class
    # Random: seed 0 changes nothing, seed 1 gets everything wrong — constant over items, so
    # only the seed draw moves it: mean of 2 draws from {0, 100} is 0, 50, 100 (¼, ½, ¼) → 50
    random = np.stack([before, np.zeros(n, dtype=bool)])
    widths = _widths(_outcomes(before, after, random, labels))
    # the drop is 100 · (1 − p̂) with p̂ a share of n items: half-width ≈ 1.96 · 100 · √(¼ / n)
    assert widths["probe", "all", "ImgD"] == pytest.approx(1.96 * 100 * 0.5 / np.sqrt(n),
                                                           rel=0.3)
    assert widths["probe", "a", "ImgD"] == pytest.approx(1.96 * 100 * 0.5 / np.sqrt(n / 2),
                                                         rel=0.3)
    assert widths["probe", "all", "Random"] == pytest.approx(50.0)
    assert widths["probe", "all", "None"] == 0.0


def test_tables_carry_the_drop_half_widths_after_each_drop():
    rng = np.random.default_rng(1)
    n = 200
    labels = np.where(rng.random(n) < 0.5, "a", "b")
    image = np.abs(rng.normal(0, 0.3, (n, 4))).astype(np.float32)
    image[:, 0] += np.where(labels == "a", 0.5, 0.0)
    text = image[:, [1, 0, 2, 3]].copy()
    groups = np.array(["ImgD", "TextD", "CrossD", "CrossD"])
    data = {m: ModalityData(x, labels, np.ones(n, bool), x, labels)
            for m, x in (("image", image), ("text", text))}
    outcomes = study_outcomes(IdentityDictionary(4), data, groups, ["a", "b"], seeds=[0, 1, 2])
    study = study_frame(outcomes, ["a", "b"])
    pd.testing.assert_frame_equal(study, attribute_study(IdentityDictionary(4), data, groups,
                                                         ["a", "b"], seeds=[0, 1, 2]))
    drops = accuracy_drops(study, drop_half_widths(outcomes, ["a", "b"], resamples=50))
    first = table1(drops)
    assert list(first.columns[2:8]) == ["w/o ImgD", "w/o ImgD ±", "w/o TextD", "w/o TextD ±",
                                        "w/o Random", "w/o Random ±"]
    assert (first[["w/o ImgD ±", "w/o TextD ±", "w/o Random ±"]] >= 0).all().all()
    assert first["w/o ImgD ±"].gt(0).any()
    second = table2(drops, ["a", "b"])
    assert list(second.columns[2:6]) == ["w/o ImgD (image input)", "w/o ImgD (image input) ±",
                                         "w/o TextD (text input)", "w/o TextD (text input) ±"]
    assert second["w/o ImgD (image input) ±"].notna().all()
    # without half-widths the columns are there, NaN
    assert table1(accuracy_drops(study))["w/o ImgD ±"].isna().all()


def test_text_cue_share_per_bucket_by_hand():
    assert toyworld_cue_words("night") == ["night"]
    assert toyworld_cue_words("day") == ["daylight"]
    assert toyworld_cue_words("dusk") == []
    captions = ["a star at night", "red circle", "blue star at night", 'the word " night "']
    assert has_cue_word(captions, ["night"]).tolist() == [True, False, True, True]
    assert not has_cue_word(["nightly stars"], ["night"])[0]      # whole words only
    words = bucket_words(captions, np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.8, 0.9]),
                         ["night"], top=2, cue_words=["night"], resamples=200, seed=0)
    # bucket 0: {1, 0} → ½ ± ½ (resample means 0, ½, 1); bucket 1: {1, 1} → 1 ± 0
    assert words["text_cue_share"].tolist() == [0.5, 1.0]
    assert words["text_cue_share ±"].tolist() == [0.5, 0.0]
    assert words["text_cue_words"].tolist() == ["night", "night"]
    assert "night" not in ", ".join(words["top_words"])
    plain = bucket_words(captions, np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.8, 0.9]),
                         ["night"])
    assert plain["text_cue_share"].isna().all() and plain["text_cue_share ±"].isna().all()


def test_bucket_cue_share_edge_cases():
    assert bucket_cue_share(np.array([], dtype=bool)) == pytest.approx((np.nan, np.nan),
                                                                       nan_ok=True)
    share, width = bucket_cue_share(np.array([True]))
    assert share == 1.0 and np.isnan(width)
    # a share of n = 400 captions: half-width ≈ 1.96 · √(p (1 − p) / n)
    share, width = bucket_cue_share(np.arange(400) % 4 == 0, resamples=300, seed=2)
    assert share == 0.25
    assert width == pytest.approx(1.96 * np.sqrt(0.25 * 0.75 / 400), rel=0.3)
