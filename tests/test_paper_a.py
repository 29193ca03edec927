"""Paper A's tables (crossmodal.tables.paper_a) and the per-model scoring glue
(crossmodal.monosemanticity.evaluate): hand cases."""

import numpy as np
import pandas as pd
import pytest

from crossmodal.dictionaries.identity import IdentityDictionary
from crossmodal.monosemanticity.evaluate import (
    MonoSettings,
    align_rows,
    average_scores,
    live_latents,
    score_latents,
    top_rows,
)
from crossmodal.tables.paper_a import table4, table5


def scores_frame():
    # latents 0–4: ImgD, ImgD, TextD, CrossD, dead. Latent 1 never fires on texts and latent 3
    # on only 3 texts (< m): both still count, at the near-chance scores their random-filled
    # top sets get. Latent 4 fires nowhere: not live, in no mean.
    return pd.DataFrame({
        "latent": [0, 1, 2, 3, 4], "mds_group": ["ImgD", "ImgD", "TextD", "CrossD", "dead"],
        "embsim_image": [0.4, 0.2, 0.1, 0.0, 7.0], "winrate_image": [0.8, 0.6, 0.5, 0.5, 1.0],
        "mono_image": [0.6, 0.4, 0.3, 0.25, 4.0], "active_image": [30, 30, 30, 30, 0],
        "embsim_text": [0.0, 0.2, 0.6, 9.0, 7.0], "winrate_text": [0.5, 0.5, 0.9, 1.0, 1.0],
        "mono_text": [0.25, 0.35, 0.75, 5.0, 4.0], "active_text": [30, 0, 30, 3, 0],
        "mds_group_flag": ["TextD has 1 < 3 latents"] * 5,
    })


def test_table4_averages_every_live_latent_and_keeps_the_paper_beside():
    table = table4({"CLIP+SAE": scores_frame(), "CLIP": scores_frame()}, m=20)
    assert list(table["model"]) == ["CLIP", "CLIP+SAE"]          # the paper's order
    row = table.iloc[1]
    assert row["embsim_image"] == pytest.approx(0.175)            # (0.4 + 0.2 + 0.1 + 0) / 4
    assert row["embsim_text"] == pytest.approx(9.8 / 4)           # silent latent 1 included
    assert row["latents_text"] == 4 and row["latents_image"] == 4  # dead latent 4 is not
    assert row["below_m_text"] == 2 and row["below_m_image"] == 0
    assert row["embsim_text (paper)"] == 0.74


def test_table4_half_widths_sit_beside_their_means_and_skip_dead_latents():
    frame = scores_frame()
    table = table4({"CLIP": frame}, m=20, uncertainty={"resamples": 300, "level": 0.95}, seed=0)
    columns = list(table.columns)
    for metric in ("embsim", "winrate", "mono"):
        for modality in ("image", "text"):
            name = f"{metric}_{modality}"
            assert columns[columns.index(name) + 1] == f"{name} ±"
    row = table.iloc[0]
    # the four live latents' EmbSim on images lie in [0, 0.4]: any resample mean does too, and
    # the dead latent 4 (EmbSim 7) never enters one
    assert 0 < row["embsim_image ±"] <= 0.2
    assert row["embsim_text ±"] <= (9.0 - 0.0) / 2
    # the same resample of latents for all columns: rerunning gives identical widths
    again = table4({"CLIP": frame}, m=20, uncertainty={"resamples": 300, "level": 0.95}, seed=0)
    pd.testing.assert_frame_equal(table, again)


def test_table5_half_widths_of_constant_groups_are_zero():
    # every ImgD latent scores 0.6 and every TextD 0.2 on images: Visual = 0.4 in each resample
    # that draws both groups (the others are NaN and left out), so its half-width is 0
    frame = scores_frame().assign(mono_image=[0.6, 0.6, 0.2, 0.9, 4.0])
    row = table5({"CLIP": frame}, uncertainty={"resamples": 200, "level": 0.95}).iloc[0]
    assert row["visual_mono"] == pytest.approx(0.4)
    assert row["visual_mono ±"] == pytest.approx(0.0, abs=1e-12)
    assert row["visual_embsim ±"] > 0
    columns = list(row.index)
    assert columns[columns.index("textual_winrate") + 1] == "textual_winrate ±"


def test_table5_visual_and_textual_mono_over_all_live_latents_by_hand():
    row = table5({"CLIP": scores_frame()}).iloc[0]
    # images: mean over ImgD (0.6, 0.4) − TextD (0.3) for Mono
    assert row["visual_mono"] == pytest.approx(0.5 - 0.3)
    # texts: TextD (0.75) − mean over ImgD (0.25, and 0.35 of latent 1, silent on texts)
    assert row["textual_mono"] == pytest.approx(0.75 - 0.3)
    assert row["visual_embsim"] == pytest.approx(0.3 - 0.1)
    assert (row["n_ImgD"], row["n_TextD"], row["n_CrossD"]) == (2, 1, 1)
    assert row["mds_flag"] == "TextD has 1 < 3 latents"
    assert row["textual_embsim (paper)"] == -0.017


def test_average_scores_counts_live_latents_below_m():
    averages = average_scores(scores_frame(), m=20)
    assert averages["mono_text"] == pytest.approx((0.25 + 0.35 + 0.75 + 5.0) / 4)
    assert averages["latents_text"] == 4 and averages["latents_image"] == 4
    assert averages["below_m_text"] == 2
    assert list(live_latents(scores_frame())) == [True, True, True, True, False]


def unimodal_world(n=400, per_group=30, concept_rows=40, seed=0):
    """Codes and h-embeddings where latents 0…per_group−1 (ImgD) fire only on images and the
    next per_group (TextD) only on captions, each on the first ``concept_rows`` rows, whose
    h-embeddings are one tight cluster; the other rows' are random."""
    rng = np.random.default_rng(seed)
    image = np.zeros((n, 2 * per_group), dtype=np.float32)
    text = np.zeros_like(image)
    image[:concept_rows, :per_group] = rng.random((concept_rows, per_group)) + 0.1
    text[:concept_rows, per_group:] = rng.random((concept_rows, per_group)) + 0.1
    h = rng.normal(size=(n, 16))
    h[:concept_rows] = np.eye(16)[0] * 5 + 0.05 * rng.normal(size=(concept_rows, 16))
    groups = np.array(["ImgD"] * per_group + ["TextD"] * per_group, dtype=object)
    return image, text, h, groups


def test_table5_includes_a_latent_silent_in_one_modality_and_it_scores_at_chance_there():
    image, text, h, groups = unimodal_world()
    scores = score_latents(IdentityDictionary(image.shape[1]), image, text, h, h,
                           MonoSettings(m=10, seed=1)).assign(mds_group=groups)
    imgd, textd = scores[groups == "ImgD"], scores[groups == "TextD"]
    assert (imgd["active_text"] == 0).all() and (textd["active_image"] == 0).all()
    # own modality: the cluster rows win; silent modality: seeded random rows, i.e. chance.
    # (Ties broken by row index would pick the first rows, the cluster, and win there too.)
    assert imgd["winrate_image"].mean() > 0.95 and textd["winrate_text"].mean() > 0.95
    assert imgd["winrate_text"].mean() == pytest.approx(0.5, abs=0.1)
    assert textd["winrate_image"].mean() == pytest.approx(0.5, abs=0.1)
    row = table5({"CLIP+NCL": scores}).iloc[0]
    assert row["visual_winrate"] == pytest.approx(
        imgd["winrate_image"].mean() - textd["winrate_image"].mean())
    assert 0.35 < row["visual_winrate"] < 0.65 and 0.35 < row["textual_winrate"] < 0.65
    assert table4({"CLIP+NCL": scores}, m=10).iloc[0]["latents_text"] == 60


def test_align_rows_reorders_and_names_missing_pairs():
    vectors = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(align_rows(["c", "a"], ["a", "b", "c"], vectors, "h.parquet"),
                                  [[4, 5], [0, 1]])
    with pytest.raises(ValueError, match="h.parquet: no h-embedding for 1 pairs"):
        align_rows(["z"], ["a"], vectors[:1], "h.parquet")


def test_top_rows_of_selected_latents_rank_by_magnitude():
    x = np.array([[0.1, 5.0, 0.0], [3.0, 1.0, 0.0], [-4.0, 4.0, 1.0]], dtype=np.float32)
    rows, values = top_rows(IdentityDictionary(3), x, np.array([0, 1]), n=2, batch_size=2)
    np.testing.assert_array_equal(rows, [[2, 1], [0, 2]])
    np.testing.assert_allclose(values, [[-4.0, 3.0], [5.0, 4.0]])     # signed codes returned


def test_a_latent_that_fires_on_one_concept_scores_above_a_random_one():
    # raw dims: dim 0 is large exactly on rows of concept A, whose h-embeddings are identical;
    # dim 1 is noise. Dim 0 must win more pairs (WinRate) than dim 1.
    rng = np.random.default_rng(0)
    n = 400
    concept = rng.random(n) < 0.2
    x = rng.normal(size=(n, 2)).astype(np.float32)
    x[concept, 0] += 10
    h = rng.normal(size=(n, 16))
    h[concept] = np.eye(16)[0] * 5 + 0.05 * rng.normal(size=(concept.sum(), 16))
    scores = score_latents(IdentityDictionary(2), x, x, h, h, MonoSettings(m=20, seed=1))
    assert scores.loc[0, "winrate_image"] > 0.95
    assert scores.loc[1, "winrate_image"] < 0.7
    assert list(scores.columns[:3]) == ["latent", "embsim_image", "winrate_image"]


def test_mono_vs_groundtruth_ranks_models_by_per_latent_per_modality_truth():
    from crossmodal.tables.paper_a import mono_vs_groundtruth

    table = pd.DataFrame({"model": ["A", "B"], "mono_image": [0.6, 0.2], "mono_text": [0.4, 0.2]})
    features = {  # per-latent best concept AUC per modality; NaN = silent there, left out
        "e/a": pd.DataFrame({"gt_auc_image": [1.0, 0.8, np.nan],
                             "gt_auc_text": [np.nan, 0.6, 0.7]}),
        "e/b": pd.DataFrame({"gt_auc_image": [0.6, 0.6, 0.9],
                             "gt_auc_text": [0.5, 0.5, 0.5]})}
    recovery = pd.DataFrame({
        "encoder": ["e", "e", "e", "e"], "method": ["a", "a", "b", "b"],
        "concepts": [3, 1, 3, 1], "mean_auc": [0.9, 0.5, 0.6, 1.0]})
    out = mono_vs_groundtruth(table, {"A": "e/a", "B": "e/b"}, features, recovery)
    assert out["mono"].tolist() == pytest.approx([0.5, 0.2])
    assert out["groundtruth_auc_image"].tolist() == pytest.approx([0.9, 0.7])
    assert out["groundtruth_auc_text"].tolist() == pytest.approx([0.65, 0.5])
    assert out["groundtruth_auc"].tolist() == pytest.approx([0.775, 0.6])
    assert out["gt_latents_image"].tolist() == [2, 3] and out["gt_latents_text"].tolist() == [2, 3]
    assert out["best_latent_auc"].tolist() == pytest.approx([0.8, 0.7])   # (3·0.9 + 0.5)/4 …
    assert out["rank_mono"].tolist() == [1, 2] and out["rank_groundtruth"].tolist() == [1, 2]
    assert out["rank_groundtruth_text"].tolist() == [1, 2]


def test_report_names_models_with_a_degenerate_mds_grouping():
    from crossmodal.report.html import mds_flag_line

    frame = pd.DataFrame({"model": ["CLIP", "CLIP+NCL"], "mds_flag": [np.nan, "ImgD empty"]})
    assert mds_flag_line(frame) == ('<p class="error">Degenerate MDS grouping — '
                                    "CLIP+NCL: ImgD empty</p>")
    assert mds_flag_line(frame.assign(mds_flag="")) == ""


def test_mono_vs_groundtruth_intervals_and_ties():
    from crossmodal.tables.paper_a import mono_vs_groundtruth

    def constant_scores(mono):   # every latent alike: the bootstrap has no spread
        return pd.DataFrame({"mono_image": [mono] * 4, "mono_text": [mono] * 4,
                             "active_image": [5] * 4, "active_text": [5] * 4})

    def spread_scores(mono):     # latents at mono ± 0.1: half-width 0.1 (resample means span it)
        values = [mono - 0.1, mono + 0.1]
        return pd.DataFrame({"mono_image": values, "mono_text": values,
                             "active_image": [5, 5], "active_text": [5, 5]})

    scores = {"A": constant_scores(0.6), "B": spread_scores(0.55), "C": constant_scores(0.3)}
    table = pd.DataFrame({"model": list(scores), "mono_image": [0.6, 0.55, 0.3],
                          "mono_text": [0.6, 0.55, 0.3]})
    features = {f"e/{m}": pd.DataFrame({"gt_auc_image": [auc, auc], "gt_auc_text": [auc, auc]})
                for m, auc in (("a", 0.9), ("b", 0.8), ("c", 0.7))}
    targets = {"A": "e/a", "B": "e/b", "C": "e/c"}
    out = mono_vs_groundtruth(table, targets, features, scores=scores,
                              uncertainty={"resamples": 300, "level": 0.95}, seed=0)
    assert out["mono ±"].tolist() == pytest.approx([0.0, 0.1, 0.0])
    # A (0.6 ± 0) and B (0.55 ± 0.1) overlap; C (0.3 ± 0) is separated from both
    assert out["rank_mono_tied_with"].tolist() == ["B", "A", ""]
    assert out["rank_mono"].tolist() == [1, 2, 3]
    # ground truth: constant per model, distinct means → every rank separated
    assert out["groundtruth_auc ±"].tolist() == [0.0, 0.0, 0.0]
    assert out["rank_groundtruth_tied_with"].tolist() == ["", "", ""]
    columns = list(out.columns)
    assert columns[columns.index("mono") + 1] == "mono ±"
    assert columns[columns.index("rank_mono_text") + 1] == "rank_mono_text_tied_with"
