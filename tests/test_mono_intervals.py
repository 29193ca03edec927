"""Intervals of paper A's monosemanticity tables (crossmodal.monosemanticity.intervals): cases
small enough to check by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from crossmodal.monosemanticity.intervals import (
    groundtruth_half_widths,
    mean_half_widths,
    modality_mono_half_widths,
    mono_half_widths,
    tied_with,
    with_intervals,
)

MANY = {"resamples": 400, "level": 0.95}


def test_mean_of_two_latents_zero_and_one_spans_the_whole_range():
    # a resample of 2 latents has mean 0, 1/2 or 1 with probabilities 1/4, 1/2, 1/4: the 2.5 %
    # and 97.5 % quantiles are 0 and 1, so the half-width is 1/2; a constant column has none
    widths = mean_half_widths(pd.DataFrame({"x": [0.0, 1.0], "c": [0.3, 0.3]}), MANY, seed=2)
    assert widths == {"x": 0.5, "c": 0.0}


def test_mean_leaves_nan_out_as_the_table_does():
    # x: 0.2 or 0.6 or NaN → every resample's nanmean lies in [0.2, 0.6] (all-NaN ones left out)
    widths = mean_half_widths(pd.DataFrame({"x": [0.2, 0.6, np.nan]}), MANY, seed=0)
    assert widths["x"] == pytest.approx(0.2)


def test_mono_half_width_comes_from_the_paired_resample():
    # EmbSim + WinRate = 1 on every latent: Mono = 1/2 in every resample (half-width 0) while
    # EmbSim and WinRate vary; adding their half-widths would claim a spread Mono does not have
    embsim = np.linspace(0.0, 0.4, 10)
    scores = pd.DataFrame({"embsim_image": embsim, "winrate_image": 1 - embsim,
                           "mono_image": np.full(10, 0.5)})
    widths = mean_half_widths(scores, MANY, seed=0)
    assert widths["mono_image"] == 0.0
    assert widths["embsim_image"] > 0.05 and widths["winrate_image"] == pytest.approx(
        widths["embsim_image"])


def test_overall_mono_is_paired_across_modalities():
    # image and text Mono move in opposite directions latent by latent: their mean is constant
    scores = pd.DataFrame({"mono_image": [0.2, 0.4, 0.6], "mono_text": [0.6, 0.4, 0.2]})
    widths = mono_half_widths(scores, MANY, seed=0)
    assert widths["mono"] == 0.0 and widths["mono_image"] == pytest.approx(0.2)


def test_visual_mono_resamples_latents_with_their_groups():
    # images: ImgD latents score 0 and 1, the TextD latent 0. Of the 27 resamples of 3 latents,
    # 9 miss a group (NaN, left out); of the other 18, 6 give Visual = 0 (ImgD drawn = the 0
    # one only) and 6 give 1: quantiles 0 and 1, half-width 1/2. Texts: constant, no spread.
    scores = pd.DataFrame({"mds_group": ["ImgD", "ImgD", "TextD"],
                           "mono_image": [0.0, 1.0, 0.0], "mono_text": [0.3, 0.3, 0.3]})
    widths = modality_mono_half_widths(scores, ("mono",), MANY, seed=0)
    assert widths == {"visual_mono": 0.5, "textual_mono": 0.0}


def test_groundtruth_means_leave_unscored_latents_out():
    # image AUC 0.5, 1.0 or unscored: resample means span [0.5, 1.0] → 0.25; text constant;
    # the overall mean (image + text)/2 moves half as much → 0.125
    features = pd.DataFrame({"gt_auc_image": [0.5, 1.0, np.nan], "gt_auc_text": [0.7] * 3})
    widths = groundtruth_half_widths(features, MANY, seed=0)
    assert widths["groundtruth_auc_image"] == pytest.approx(0.25)
    assert widths["groundtruth_auc_text"] == pytest.approx(0.0)
    assert widths["groundtruth_auc"] == pytest.approx(0.125)


def test_one_latent_has_no_interval_and_the_bootstrap_is_seeded():
    assert math.isnan(mean_half_widths(pd.DataFrame({"x": [0.4]}))["x"])
    frame = pd.DataFrame({"x": np.random.default_rng(0).random(30)})
    assert mean_half_widths(frame, seed=3) == mean_half_widths(frame, seed=3)
    assert mean_half_widths(frame, seed=3) != mean_half_widths(frame, seed=4)


def test_tied_with_lists_models_whose_intervals_overlap():
    # |0.50 − 0.48| = 0.02 ≤ 0.03 + 0.01: A and B tied; |0.48 − 0.30| = 0.18 > 0.01 + 0.05
    assert tied_with(["A", "B", "C"], [0.5, 0.48, 0.3], [0.03, 0.01, 0.05]) == ["B", "A", ""]
    # touching intervals count as overlapping; a NaN half-width separates nothing
    assert tied_with(["A", "B"], [0.5, 0.4], [0.05, 0.05]) == ["B", "A"]
    assert tied_with(["A", "B", "C"], [0.9, 0.5, 0.1], [np.nan, 0.0, 0.0]) == ["B, C", "A", "A"]
    assert tied_with(["A", "B"], [np.nan, 0.5], [0.1, 0.1]) == ["", ""]


def test_with_intervals_places_each_half_width_after_its_column():
    row = with_intervals({"model": "CLIP", "a": 1.0, "n": 3, "b": 2.0}, {"b": 0.2, "a": 0.1})
    assert list(row) == ["model", "a", "a ±", "n", "b", "b ±"]
    assert row["a ±"] == 0.1 and row["b ±"] == 0.2
