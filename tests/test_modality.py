"""Energies, μ groups, paper A's MDS and the toyworld ground-truth scoring on hand-made cases."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import roc_auc_score

from crossmodal.modality.energy import modality_groups
from crossmodal.modality.features import LatentStatistics
from crossmodal.modality.groundtruth import (
    best_latents,
    concept_auc,
    latent_concepts,
    recovery_summary,
)
from crossmodal.modality.mds import mds_from_sums, mds_groups, mds_terms

IMAGE = torch.tensor([[1.0, 0.0, 0.0], [2.0, 0.0, 1.0]])
TEXT = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, -3.0]])


def test_mds_by_hand_skips_pairs_where_the_latent_is_silent():
    ratio, pairs = mds_terms(IMAGE, TEXT)
    mds = mds_from_sums(ratio.numpy(), pairs.numpy())
    # latent 0: (1/2 + 2/2)/2; latent 1: never active; latent 2: only pair 1, 1/(1 + 3)
    assert mds[0] == pytest.approx(0.75)
    assert math.isnan(mds[1])
    assert mds[2] == pytest.approx(0.25)


def test_mds_groups_use_mean_plus_minus_std_of_live_latents():
    mds = np.array([0.1, 0.5, 0.5, 0.5, 0.9, np.nan])
    # mean 0.5, std sqrt(2 · 0.16 / 5) = 0.253 → 0.1 < 0.247 and 0.9 > 0.753
    assert list(mds_groups(mds)) == ["TextD", "CrossD", "CrossD", "CrossD", "ImgD", "dead"]


def test_modality_groups_follow_the_tau_rule():
    mu = np.array([0.99, 0.01, 0.5, 0.95, 0.05, np.nan])
    assert list(modality_groups(mu, 0.05)) == ["image", "text", "bimodal", "bimodal", "bimodal",
                                                "dead"]


def test_latent_statistics_by_hand_and_batch_invariant():
    whole = LatentStatistics(3)
    whole.add(IMAGE, TEXT)
    split = LatentStatistics(3)
    split.add(IMAGE[:1], TEXT[:1])
    split.add(IMAGE[1:], TEXT[1:])
    for stats in (whole, split):
        frame = stats.frame(tau=0.05)
        assert np.allclose(frame["energy_image"], [2.5, 0.0, 0.5])   # (1 + 4)/2, 0, 1/2
        assert np.allclose(frame["energy_text"], [0.5, 0.0, 4.5])
        assert np.allclose(frame["frequency_image"], [1.0, 0.0, 0.5])
        assert np.allclose(frame["mu"].iloc[[0, 2]], [2.5 / 3, 0.5 / 5])
        assert list(frame["group"]) == ["bimodal", "dead", "bimodal"]
        assert list(frame["dead"]) == [False, True, False]
        assert frame["mds"].iloc[0] == pytest.approx(0.75)


def test_concept_auc_by_hand_with_ties_and_against_sklearn():
    codes = np.array([[3.0, 1.0], [1.0, 1.0], [2.0, 0.0], [0.0, 0.0]])
    labels = np.array([[1], [0], [1], [0]], dtype=bool)
    auc = concept_auc(codes, labels)
    # latent 0 ranks positives 4 and 3 of 4 → 1.0; latent 1 ties → (3.5 + 1.5 − 3)/4 = 0.5
    assert auc[0, 0] == pytest.approx(1.0)
    assert auc[0, 1] == pytest.approx(0.5)
    rng = np.random.default_rng(0)
    codes = np.maximum(rng.normal(size=(200, 5)), 0)
    labels = rng.random((200, 3)) < 0.3
    auc = concept_auc(codes, labels)
    for c in range(3):
        for k in range(5):
            assert auc[c, k] == pytest.approx(roc_auc_score(labels[:, c], codes[:, k]))


def test_constant_labels_give_nan_auc():
    auc = concept_auc(np.ones((4, 2)), np.zeros((4, 1), dtype=bool))
    assert np.isnan(auc).all()


def test_best_latents_and_group_scoring():
    auc = np.array([[0.9, 0.6, 0.5], [0.5, 0.55, 0.8], [0.7, 0.5, 0.6]])
    concepts = ["gt_shape_circle", "gt_texture_dots", "gt_attribute_day"]
    family_of = {"gt_shape_circle": "shape", "gt_texture_dots": "texture",
                 "gt_attribute_day": "attribute"}
    modality_of = {"shape": "bimodal", "texture": "image", "attribute": "attribute"}
    features = pd.DataFrame({"group": ["bimodal", "text", "text"],
                             "mds_group": ["CrossD", "TextD", "ImgD"]})
    table = best_latents(auc, concepts, family_of, modality_of, features)
    assert list(table["latent"]) == [0, 2, 0]
    assert list(table["right_group"].iloc[:2]) == [1.0, 0.0]      # texture → text: wrong
    assert list(table["right_mds_group"].iloc[:2]) == [1.0, 1.0]  # texture → ImgD: right
    assert math.isnan(table["right_group"].iloc[2])               # no expectation for attribute
    summary = recovery_summary(table).set_index("modality")
    assert summary.loc["bimodal", "right_group"] == 1.0
    assert summary.loc["image", "right_group"] == 0.0
    assert "attribute" not in summary.index
    per_latent = latent_concepts(auc, concepts)
    assert list(per_latent["gt_concept"]) == ["gt_shape_circle", "gt_shape_circle",
                                              "gt_texture_dots"]
