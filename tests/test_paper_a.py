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
    score_latents,
    top_rows,
)
from crossmodal.tables.paper_a import table4, table5


def scores_frame():
    # latents 0–3: ImgD, ImgD, TextD, CrossD; latent 3 fires on too few texts to be scored
    return pd.DataFrame({
        "latent": [0, 1, 2, 3], "mds_group": ["ImgD", "ImgD", "TextD", "CrossD"],
        "embsim_image": [0.4, 0.2, 0.1, 0.0], "winrate_image": [0.8, 0.6, 0.5, 0.5],
        "mono_image": [0.6, 0.4, 0.3, 0.25], "active_image": [30, 30, 30, 30],
        "embsim_text": [0.0, 0.2, 0.6, 9.0], "winrate_text": [0.5, 0.5, 0.9, 1.0],
        "mono_text": [0.25, 0.35, 0.75, 5.0], "active_text": [30, 30, 30, 3],
    })


def test_table4_averages_scored_latents_and_keeps_the_paper_beside():
    table = table4({"CLIP+SAE": scores_frame(), "CLIP": scores_frame()}, m=20)
    assert list(table["model"]) == ["CLIP", "CLIP+SAE"]          # the paper's order
    row = table.iloc[1]
    assert row["embsim_image"] == pytest.approx(0.175)            # (0.4 + 0.2 + 0.1 + 0) / 4
    assert row["embsim_text"] == pytest.approx(0.8 / 3)           # latent 3 not scored
    assert row["latents_text"] == 3
    assert row["embsim_text (paper)"] == 0.74


def test_table5_visual_and_textual_mono_by_hand():
    row = table5({"CLIP": scores_frame()}, m=20).iloc[0]
    # images: mean over ImgD (0.6, 0.4) − TextD (0.3) for Mono
    assert row["visual_mono"] == pytest.approx(0.5 - 0.3)
    # texts: TextD (0.75) − mean over ImgD (0.25, 0.35)
    assert row["textual_mono"] == pytest.approx(0.75 - 0.3)
    assert row["visual_embsim"] == pytest.approx(0.3 - 0.1)
    assert (row["n_ImgD"], row["n_TextD"], row["n_CrossD"]) == (2, 1, 1)
    assert row["textual_embsim (paper)"] == -0.017


def test_average_scores_ignores_latents_active_on_fewer_than_m_rows():
    averages = average_scores(scores_frame(), m=20)
    assert averages["mono_text"] == pytest.approx((0.25 + 0.35 + 0.75) / 3)
    assert averages["latents_text"] == 3 and averages["latents_image"] == 4


def test_align_rows_reorders_and_names_missing_pairs():
    vectors = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(align_rows(["c", "a"], ["a", "b", "c"], vectors, "h.parquet"),
                                  [[4, 5], [0, 1]])
    with pytest.raises(ValueError, match="h.parquet: no h-embedding for 1 pairs"):
        align_rows(["z"], ["a"], vectors[:1], "h.parquet")


def test_top_rows_of_selected_latents():
    x = np.array([[0.1, 5.0, 0.0], [3.0, 1.0, 0.0], [2.0, 4.0, 1.0]], dtype=np.float32)
    rows, values = top_rows(IdentityDictionary(3), x, np.array([0, 1]), n=2, batch_size=2)
    np.testing.assert_array_equal(rows, [[1, 2], [0, 2]])
    np.testing.assert_allclose(values, [[3.0, 2.0], [5.0, 4.0]])


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


def test_mono_vs_groundtruth_weights_concepts_and_ranks_models():
    from crossmodal.tables.paper_a import mono_vs_groundtruth

    table = pd.DataFrame({"model": ["A", "B"], "mono_image": [0.6, 0.2], "mono_text": [0.4, 0.2]})
    recovery = pd.DataFrame({
        "encoder": ["e", "e", "e", "e"], "method": ["a", "a", "b", "b"],
        "concepts": [3, 1, 3, 1], "mean_auc": [0.9, 0.5, 0.6, 1.0],
        "right_group": [1.0, 0.0, 0.0, 1.0]})
    out = mono_vs_groundtruth(table, {"A": "e/a", "B": "e/b"}, recovery)
    assert out["mono"].tolist() == pytest.approx([0.5, 0.2])
    assert out["groundtruth_auc"].tolist() == pytest.approx([0.8, 0.7])   # (3·0.9 + 0.5)/4 …
    assert out["right_group"].tolist() == pytest.approx([0.75, 0.25])
    assert out["rank_mono"].tolist() == [1, 2] and out["rank_groundtruth"].tolist() == [1, 2]
