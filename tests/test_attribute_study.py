"""Case study 1 (crossmodal.case_studies.attribute): removal sets, classifiers, tables, shares."""

import numpy as np
import pandas as pd
import pytest

from crossmodal.case_studies.attribute import (
    ModalityData,
    accuracy_drops,
    asymmetry_verdict,
    attribute_study,
    bucket_words,
    class_references,
    decode_without,
    nearest_reference,
    random_active,
    removal_counts,
    removal_masks,
    share_buckets,
    table1,
    table2,
    top_group_share,
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
