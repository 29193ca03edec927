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
    concept_auc,
    concept_recovery,
    latent_modality_auc,
    modality_auc_summary,
    modality_aucs,
    recovery_summary,
    with_linear_detector,
)
from crossmodal.modality.mds import (
    MDSGroupingWarning,
    check_mds_groups,
    mds_from_sums,
    mds_group_problems,
    mds_groups,
    mds_terms,
)

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


def test_latents_silent_on_one_modality_are_never_crossd():
    # hand-built codes, 4 pairs × 6 latents: latents 0–2 fire on captions only (R = 0), 3 on
    # both, 4 on images only (R = 1), 5 nowhere. R = (0, 0, 0, 0.5, 1, NaN): mean 0.3, std
    # 0.4, so μ − σ = −0.1 and the μ ± σ rule alone would put the R = 0 latents in CrossD.
    image = torch.zeros(4, 6)
    text = torch.zeros(4, 6)
    text[:, :3] = 1.0
    image[:, 3], text[:, 3] = 2.0, 2.0
    image[:2, 4] = 3.0
    ratio, pairs = mds_terms(image, text)
    mds = mds_from_sums(ratio.numpy(), pairs.numpy())
    np.testing.assert_allclose(mds[:5], [0, 0, 0, 0.5, 1])
    assert list(mds_groups(mds)) == ["TextD", "TextD", "TextD", "CrossD", "ImgD", "dead"]


def test_degenerate_mds_groupings_warn_and_are_flagged():
    alike = np.array([0.4, 0.4, 0.4, 0.4, np.nan])          # σ = 0: every live latent CrossD
    groups = mds_groups(alike)
    assert list(groups[:4]) == ["CrossD"] * 4
    assert mds_group_problems(alike, groups) == ["std(R) = 0", "ImgD empty", "TextD empty"]
    with pytest.warns(MDSGroupingWarning, match="ImgD empty"):
        assert check_mds_groups(alike, groups) == "std(R) = 0; ImgD empty; TextD empty"
    sound = np.array([0.1, 0.15, 0.2] + [0.5] * 10 + [0.8, 0.85, 0.9])
    assert check_mds_groups(sound, mds_groups(sound)) == ""
    tiny = np.array([0.1] + [0.5] * 10 + [0.8, 0.85, 0.9])
    assert mds_group_problems(tiny, mds_groups(tiny)) == ["TextD has 1 < 3 latents"]


def test_feature_table_carries_the_mds_flag():
    image = torch.tensor([[1.0, 1.0], [1.0, 1.0]])
    stats = LatentStatistics(2)
    stats.add(image, image)                                 # R = 0.5 for both: σ = 0
    with pytest.warns(MDSGroupingWarning):
        frame = stats.frame(tau=0.05)
    assert set(frame["mds_group_flag"]) == {
        "std(R) = 0; ImgD empty; CrossD has 2 < 3 latents; TextD empty"}


def test_modality_groups_follow_the_tau_rule():
    mu = np.array([0.99, 0.01, 0.5, 0.95, 0.05, np.nan])
    assert list(modality_groups(mu, 0.05)) == ["image", "text", "bimodal", "bimodal", "bimodal",
                                                "dead"]


@pytest.mark.filterwarnings("ignore::crossmodal.modality.mds.MDSGroupingWarning")
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


CONCEPTS = ["gt_shape_circle", "gt_texture_dots", "gt_emotion_happy"]
CONCEPT_MODALITIES = ["bimodal", "image", "text"]


def test_per_modality_comparator_never_pools_an_image_only_detector_to_075():
    # 8 pairs; circle on pairs 0–3, dots on 0, 4, happy on 1, 5, 6. Latent 0 detects circle
    # perfectly on images and is silent on captions; latent 1 detects happy on captions
    # (image rows: noise, and happy is no image concept); latent 2 is silent everywhere.
    labels = np.zeros((8, 3), dtype=bool)
    labels[:4, 0] = labels[[0, 4], 1] = labels[[1, 5, 6], 2] = True
    image = np.zeros((8, 3))
    text = np.zeros((8, 3))
    image[:4, 0] = [1.0, 2.0, 0.5, 3.0]
    image[:, 1] = [0.1, 0.9, 0.2, 0.3, 0.5, 0.6, 0.8, 0.7]
    text[[1, 5, 6], 1] = -1.0                      # negative codes count by |z|
    aucs = modality_aucs(image, text, labels, CONCEPT_MODALITIES)
    assert np.isnan(aucs["image"][2]).all() and np.isnan(aucs["text"][1]).all()  # not shown
    per_latent = latent_modality_auc(aucs, CONCEPTS)
    assert per_latent.loc[0, "gt_auc_image"] == 1.0
    assert per_latent.loc[0, "gt_concept_image"] == "gt_shape_circle"
    assert math.isnan(per_latent.loc[0, "gt_auc_text"])  # silent on captions: left out
    # pooled over both modalities the same latent would get 0.75 (captions tie at 0)
    pooled = concept_auc(np.concatenate([image, text]), np.tile(labels, (2, 1)))
    assert pooled[0, 0] == pytest.approx(0.75)
    assert per_latent.loc[1, "gt_auc_text"] == 1.0
    assert per_latent.loc[1, "gt_concept_text"] == "gt_emotion_happy"
    # on images latent 1 is scored against circle and dots only (happy is not drawn); its
    # ranks are (1, 8, 2, 3, 4, 5, 7, 6): circle (rows 0–3) (14 − 10)/16 = 0.25, dots (rows
    # 0, 4) (5 − 3)/12 = 1/6 → best 0.25
    assert per_latent.loc[1, "gt_auc_image"] == pytest.approx(0.25)
    assert per_latent.loc[1, "gt_concept_image"] == "gt_shape_circle"
    # gt_auc / gt_concept: the better modality of each latent
    assert list(per_latent["gt_concept"].iloc[:2]) == ["gt_shape_circle", "gt_emotion_happy"]
    assert list(per_latent["gt_auc"].iloc[:2]) == [1.0, 1.0]
    assert per_latent.iloc[2].isna().all()
    summary = modality_auc_summary(per_latent)
    assert summary["groundtruth_auc_image"] == pytest.approx((1.0 + 0.25) / 2)
    assert summary["groundtruth_auc_text"] == pytest.approx(1.0)
    assert summary["groundtruth_auc"] == pytest.approx((0.625 + 1.0) / 2)
    assert (summary["gt_latents_image"], summary["gt_latents_text"]) == (2, 1)


RECOVERY_CONCEPTS = ["gt_shape_circle", "gt_texture_dots", "gt_emotion_happy",
                     "gt_attribute_day"]
RECOVERY_FAMILIES = ["shape", "texture", "emotion", "attribute"]
RECOVERY_MODALITIES = ["bimodal", "image", "text", "attribute"]


def _recovery_case():
    """8 pairs; circle on pairs 0–3, dots on 0, 4, happy on 1, 5, 6, day on 0, 2, 4, 6.
    Latent 0 detects circle on images, latent 1 dots on images (both silent on captions),
    latent 2 happy on captions (as −1), latent 3 is 1 on every caption (AUC 0.5 there); 2 and
    3 are silent on images."""
    labels = np.zeros((8, 4), dtype=bool)
    labels[:4, 0] = labels[[0, 4], 1] = labels[[1, 5, 6], 2] = labels[[0, 2, 4, 6], 3] = True
    image, text = np.zeros((8, 4)), np.zeros((8, 4))
    image[:4, 0] = [1.0, 2.0, 0.5, 3.0]
    image[[0, 4], 1] = [2.0, 1.0]
    text[[1, 5, 6], 2] = -1.0
    text[:, 3] = 1.0
    features = pd.DataFrame({"group": ["bimodal", "image", "text", "image"],
                             "mds_group": ["ImgD", "ImgD", "TextD", "ImgD"]})
    aucs = modality_aucs(image, text, labels, RECOVERY_MODALITIES)
    table = concept_recovery(aucs, RECOVERY_CONCEPTS, RECOVERY_FAMILIES, RECOVERY_MODALITIES,
                             features)
    return image, text, labels, table.set_index("concept")


def test_an_image_only_detector_recovers_its_concept_at_auc_1_not_075():
    image, text, labels, table = _recovery_case()
    dots = table.loc["gt_texture_dots"]
    assert dots["latent_image"] == 1 and dots["auc_image"] == 1.0 and dots["auc"] == 1.0
    assert pd.isna(dots["latent_text"]) and math.isnan(dots["auc_text"])  # captions: not shown
    # pooled rows: image ranks 16, 15 for the two positives, their captions tie at 7.5 with
    # the 12 other zeros → (16 + 15 + 7.5 + 7.5 − 10) / (4 · 12) = 0.75
    pooled = concept_auc(np.concatenate([image, text]), np.tile(labels, (2, 1)))
    assert pooled[1, 1] == pytest.approx(0.75)
    happy = table.loc["gt_emotion_happy"]
    assert (happy["latent_text"], happy["auc_text"], happy["auc"]) == (2, 1.0, 1.0)
    assert math.isnan(happy["auc_image"])


def test_a_bimodal_concept_found_on_images_only_scores_075_as_the_mean():
    _, _, _, table = _recovery_case()
    circle = table.loc["gt_shape_circle"]
    # images: latent 0 ranks the four positives on top → 1; captions: latent 0 is silent (no
    # score), latent 3 ties everywhere → 0.5, latent 2 (3 + 7 + 3 + 3 − 10)/16 = 0.375
    assert (circle["latent_image"], circle["auc_image"]) == (0, 1.0)
    assert (circle["latent_text"], circle["auc_text"]) == (3, 0.5)
    assert circle["auc"] == pytest.approx(0.75)
    # the attribute, shown in both: images latent 1 (8 + 3.5 + 7 + 3.5 − 10)/16 = 0.75,
    # captions latent 3 0.5 → 0.625, and no group to be right about
    day = table.loc["gt_attribute_day"]
    assert (day["auc_image"], day["auc_text"], day["auc"]) == (0.75, 0.5, 0.625)
    assert math.isnan(day["right_group"]) and math.isnan(day["right_mds_group"])


def test_right_group_shares_by_hand():
    _, _, _, table = _recovery_case()
    # circle: image best latent 0 (bimodal ✓, ImgD ✗), caption best latent 3 (image ✗, ImgD ✗)
    assert table.loc["gt_shape_circle", "right_group"] == 0.5
    assert table.loc["gt_shape_circle", "right_mds_group"] == 0.0
    assert list(table.loc["gt_shape_circle", ["group_image", "group_text"]]) == [
        "bimodal", "image"]
    # dots → latent 1 (image, ImgD); happy → latent 2 (text, TextD)
    assert list(table.loc["gt_texture_dots", ["right_group", "right_mds_group"]]) == [1.0, 1.0]
    assert list(table.loc["gt_emotion_happy", ["right_group", "right_mds_group"]]) == [1.0, 1.0]
    summary = recovery_summary(table.reset_index()).set_index("modality")
    assert list(summary.index) == RECOVERY_MODALITIES
    assert list(summary.loc["bimodal", ["auc_image", "auc_text", "mean_auc"]]) == [1.0, 0.5, 0.75]
    assert list(summary.loc["bimodal", ["right_group", "right_mds_group"]]) == [0.5, 0.0]
    assert summary.loc["image", "mean_auc"] == 1.0 and math.isnan(summary.loc["image", "auc_text"])
    assert summary.loc["attribute", "mean_auc"] == 0.625
    assert math.isnan(summary.loc["attribute", "right_group"])
    # the shares average over concepts: a second bimodal concept right on both modalities
    two = pd.DataFrame({"concept": ["a", "b"], "modality": ["bimodal", "bimodal"],
                        "auc_image": [1.0, 0.8], "auc_text": [0.5, 0.6], "auc": [0.75, 0.7],
                        "right_group": [0.5, 1.0], "right_mds_group": [0.0, 1.0]})
    row = recovery_summary(two).iloc[0]
    assert (row["concepts"], row["mean_auc"], row["right_group"], row["right_mds_group"]) == (
        2, pytest.approx(0.725), 0.75, 0.5)


def test_the_linear_detector_is_averaged_over_the_modalities_that_show_the_concept():
    _, _, _, table = _recovery_case()
    probes = pd.DataFrame(
        [("toyclip", concept, embedding, auc)
         for concept, image_auc, text_auc in (("gt_texture_dots", 0.96, 0.52),
                                              ("gt_emotion_happy", 0.49, 0.90),
                                              ("gt_shape_circle", 1.0, 0.8))
         for embedding, auc in (("image", image_auc), ("text", text_auc))],
        columns=["encoder", "concept", "embedding", "auc"])
    joined = with_linear_detector(table.reset_index().assign(encoder="toyclip"), probes)
    joined = joined.set_index("concept")
    # image-only dots: its image AUC only (captions do not show it); happy: its caption AUC;
    # bimodal circle: (1.0 + 0.8) / 2; the attribute has no probe row: NaN
    assert joined.loc["gt_texture_dots", "linear_auc"] == 0.96
    assert math.isnan(joined.loc["gt_texture_dots", "linear_auc_text"])
    assert joined.loc["gt_emotion_happy", "linear_auc"] == 0.90
    assert joined.loc["gt_shape_circle", "linear_auc"] == pytest.approx(0.9)
    assert math.isnan(joined.loc["gt_attribute_day", "linear_auc"])
    summary = recovery_summary(joined.reset_index()).set_index("modality")
    assert summary.loc["bimodal", "linear_auc"] == pytest.approx(0.9)
    assert recovery_summary(table.reset_index())["linear_auc"].isna().all()


def test_mds_figure_draws_plain_and_flagged_panels(tmp_path):
    from crossmodal.report.modality_figures import plot_mds_distributions

    plain = pd.DataFrame({"mds": [0.1, 0.5, 0.9], "mds_group": ["TextD", "CrossD", "ImgD"],
                          "mds_group_flag": ["", "", ""]})
    flagged = plain.assign(mds_group="CrossD", mds_group_flag="ImgD empty; TextD empty")
    path = tmp_path / "mds.png"
    plot_mds_distributions({"plain": plain, "flagged": flagged}, path)
    assert path.stat().st_size > 0
