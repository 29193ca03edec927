"""Half-widths of paper B's intervention tables (2, 7–12): per-item pieces, resampled measures
and the paired bootstrap, on cases small enough to check by hand."""

import numpy as np
import pandas as pd
import pytest

from crossmodal.interventions.arithmetic import arithmetic_measures, item_ranks, target_ranks
from crossmodal.interventions.evaluation import (
    GapSettings,
    LabelledSplit,
    classification_measures,
    gap_measures,
    paired_half_widths,
    scored_clouds,
    zero_shot_hits,
)
from crossmodal.interventions.gap_removal import GapInputs, GapReference
from crossmodal.metrics.gap import (
    UnitPairs,
    difference_of_means,
    linear_separability,
    linearised_wasserstein,
    relative_modality_gap,
    resampled_difference_of_means,
    resampled_mean,
    separability_hits,
    wasserstein_dual,
    wasserstein_gap,
)
from crossmodal.metrics.retrieval import pair_hits, recall_at_k
from crossmodal.metrics.uncertainty import (
    bootstrap_counts,
    bootstrap_half_widths,
    percentile_half_widths,
)
from crossmodal.tables.paper_b_interventions import (
    gap_table,
    table2,
    table7,
    table8,
    table12,
)


def clouds(n=120, d=6, shift=1.5, seed=0):
    rng = np.random.default_rng(seed)
    image, text = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    image[:, 0] += shift
    text[:, 0] -= shift
    return image, text


# --- metrics: resampled forms -------------------------------------------------------------------

def test_resampled_difference_of_means_by_hand_and_as_an_explicit_resample():
    image, text = np.array([[1.0, 0.0], [3.0, 0.0]]), np.zeros((2, 2))
    assert resampled_difference_of_means(image - text, np.array([2, 1])) == pytest.approx(5 / 3)
    image, text = clouds()
    counts = np.bincount(np.random.default_rng(1).integers(0, 120, 120), minlength=120)
    rows = np.repeat(np.arange(120), counts)
    assert resampled_difference_of_means(image - text, counts) == pytest.approx(
        difference_of_means(image[rows], text[rows]))
    assert resampled_difference_of_means(image - text, np.ones(120)) == pytest.approx(
        difference_of_means(image, text))


def test_resampled_rmg_by_hand():
    # image (e1, e2), text (e2, e1): m = 1/2; drawing pair 0 twice and pair 1 once, each
    # modality's three rows have mean pairwise cosine (‖2e1 + e2‖² − 3) / 6 = 1/3, so
    # s = (2 − 2/3) / 4 = 1/3 and RMG = (1/2) / (1/2 + 1/3) = 0.6
    pairs = UnitPairs.of(np.eye(2), np.eye(2)[::-1])
    assert pairs.relative_modality_gap(np.array([1, 1])) == pytest.approx(0.5)
    assert pairs.relative_modality_gap(np.array([2, 1])) == pytest.approx(0.6)


def test_resampled_rmg_is_the_rmg_of_the_explicit_resample():
    image, text = clouds()
    counts = np.bincount(np.random.default_rng(2).integers(0, 120, 120), minlength=120)
    rows = np.repeat(np.arange(120), counts)
    pairs = UnitPairs.of(image, text)
    assert pairs.relative_modality_gap(counts) == pytest.approx(
        relative_modality_gap(image[rows], text[rows]))
    assert pairs.relative_modality_gap(np.ones(120)) == pytest.approx(
        relative_modality_gap(image, text))


def test_resampled_mean_skips_undefined_items():
    values = np.array([1.0, np.nan, 0.0, 0.5])
    assert resampled_mean(values, np.array([2, 5, 1, 0])) == pytest.approx(2 / 3)
    assert np.isnan(resampled_mean(values, np.array([0, 3, 0, 0])))


def test_linearised_wasserstein_by_hand():
    # images (e1, e2), texts (e1, e1): cost [[0, 0], [1, 1]], W = 1/2; the duals are unique up to
    # a constant (g1 = g2 = g, f1 = −g, f2 = 1 − g), so drawing (2, 1) gives
    # (2 f1 + f2) / 3 + g = 1/3, the exact W of images (e1, e1, e2) against three e1's
    image, text = np.eye(2), np.array([[1.0, 0.0], [1.0, 0.0]])
    dual = wasserstein_dual(image, text)
    assert dual.cost == pytest.approx(0.5)
    f, g = dual.by_item(2)
    assert linearised_wasserstein(f, g, np.array([1, 1])) == pytest.approx(0.5)
    assert linearised_wasserstein(f, g, np.array([2, 1])) == pytest.approx(1 / 3)
    assert wasserstein_gap(image[[0, 0, 1]], text[[0, 0, 1]]) == pytest.approx(1 / 3)


def test_linearised_wasserstein_is_w_at_unit_weights_and_a_lower_bound_elsewhere():
    image, text = clouds(n=80)
    dual = wasserstein_dual(image, text, n_samples=60, seed=3)
    assert dual.cost == wasserstein_gap(image, text, n_samples=60, seed=3)
    f, g = dual.by_item(80)
    assert np.isnan(f).sum() == 20 and np.isnan(g).sum() == 20   # 60 of 80 rows subsampled
    assert linearised_wasserstein(f, g, np.ones(80)) == pytest.approx(dual.cost)
    full = wasserstein_dual(image, text, n_samples=80)
    f, g = full.by_item(80)
    for seed in range(3):   # weak duality: the full sample's duals stay feasible
        counts = np.bincount(np.random.default_rng(seed).integers(0, 80, 80), minlength=80)
        rows = np.repeat(np.arange(80), counts)
        assert linearised_wasserstein(f, g, counts) <= wasserstein_gap(
            image[rows], text[rows], n_samples=80) + 1e-9


def test_separability_hits_average_to_the_separability():
    image, text = clouds(n=100, shift=0.3)
    image_hits, text_hits = separability_hits(image, text, seed=4)
    held = np.concatenate([image_hits, text_hits])
    assert (~np.isnan(held)).sum() == 40                     # 20 % of 200 rows
    assert set(np.unique(held[~np.isnan(held)])) <= {0.0, 1.0}
    assert np.nanmean(held) == linear_separability(image, text, seed=4)
    far_image, far_text = clouds(n=100, shift=20.0)
    assert np.nanmean(np.concatenate(separability_hits(far_image, far_text))) == 1.0


def test_pair_hits_average_to_recall_and_mark_the_dropped_tail():
    image, text = clouds(n=70, shift=0.0)
    hits = pair_hits(image, text + 0.5 * image, k=1, batch_size=32, seed=5)
    assert np.isnan(hits).sum() == 70 - 64                   # two full batches of 32
    assert set(np.unique(hits[~np.isnan(hits)])) <= {0.0, 0.5, 1.0}
    assert np.nanmean(hits) == pytest.approx(
        recall_at_k(image, text + 0.5 * image, ks=(1,), batch_size=32, seed=5)[1])
    np.testing.assert_array_equal(pair_hits(image, image, batch_size=32, seed=5),
                                  np.where(np.isnan(hits), np.nan, 1.0))


# --- gap removal: resampled measures and the paired bootstrap -----------------------------------

def test_cloud_items_at_unit_weights_give_the_point_estimates():
    image, text = clouds(n=150)
    settings = GapSettings(ood_k=5, wasserstein_samples=150, recall_batch=64)
    measures, _, items = scored_clouds(image, text, settings)
    again = items.resampled(np.ones(150, dtype=int))
    for measure in ("dim", "w", "sep", "rmg", "ood", "recall@1", "undirected_pairs"):
        assert again[measure] == pytest.approx(measures[measure], abs=1e-6), measure


def test_a_batch_of_resamples_gives_each_resample_s_measures():
    image, text = clouds(n=90)
    image[:3] = 0.0                                          # three undirected pairs
    _, _, items = scored_clouds(image, text, GapSettings(ood_k=5, wasserstein_samples=90,
                                                         recall_batch=32))
    counts = np.stack([np.bincount(np.random.default_rng(s).integers(0, 90, 90), minlength=90)
                       for s in range(4)])
    batch = items.resampled(counts)
    for b in range(4):
        one = items.resampled(counts[b])
        for measure, values in batch.items():
            assert values[b] == pytest.approx(one[measure]), measure
    assert batch["undirected_pairs"][0] == pytest.approx(counts[0, :3].sum() / 90)


def test_counted_resamples_give_the_direct_bootstrap():
    values = np.random.default_rng(3).normal(size=30)
    counts = bootstrap_counts(30, 25, seed=7)
    assert counts.shape == (25, 30) and (counts.sum(1) == 30).all()
    counted = percentile_half_widths({"mean": counts @ values / 30})
    direct = bootstrap_half_widths(lambda index: {"mean": values[index].mean()}, 30, 25, 7)
    assert counted["mean"] == pytest.approx(direct["mean"])


def test_identical_pairs_have_zero_half_widths():
    # every pair the same: each resample is the sample itself, so every interval is a point
    image = np.tile([[2.0, 1.0, 0.0]], (40, 1))
    text = np.tile([[0.0, 1.0, 1.0]], (40, 1))
    settings = GapSettings(ood_k=3, wasserstein_samples=40, recall_batch=16, resamples=30)
    _, _, items = scored_clouds(image, text, settings)
    widths = paired_half_widths({"m": items}, 40, settings)
    assert set(widths) == {("m", m) for m in ("dim", "w", "sep", "rmg", "ood", "recall@1",
                                              "undirected_pairs")}
    assert all(w == pytest.approx(0.0, abs=1e-12) for w in widths.values())


def test_identical_methods_are_paired_and_their_difference_has_no_spread():
    image, text = clouds(n=100)
    settings = GapSettings(ood_k=5, wasserstein_samples=100, recall_batch=32, resamples=40)
    _, _, items = scored_clouds(image, text, settings)
    widths = paired_half_widths({"a": items, "b": items}, 100, settings)
    for measure in ("dim", "w", "rmg", "ood"):
        assert widths["a", measure] > 0
        assert widths["a", measure] == widths["b", measure]   # one resample for both methods

    def difference(index):
        counts = np.bincount(index, minlength=100)
        return {"dim": items.resampled(counts)["dim"] - items.resampled(counts)["dim"]}

    assert bootstrap_half_widths(difference, 100, 40, seed=0)["dim"] == 0.0


def test_gap_measures_carry_a_half_width_per_value_and_none_without_resamples():
    rng = np.random.default_rng(0)
    image, text = rng.normal(size=(80, 5)) + 2 * np.eye(5)[0], rng.normal(size=(80, 5))
    inputs = GapInputs(image, text, image[:, [1, 2, 3, 4, 4]], text[:, [1, 2, 3, 4, 4]])
    reference = GapReference.fit(image, text, seed=0)
    settings = GapSettings(ood_k=5, wasserstein_samples=80, recall_batch=32, resamples=20)
    frame, _ = gap_measures(inputs, reference, settings, methods=("reconstructed", "centre"))
    assert list(frame.columns) == ["method", "measure", "value", "value ±"]
    assert frame["value ±"].notna().all() and (frame["value ±"] >= 0).all()
    none, _ = gap_measures(inputs, reference, GapSettings(ood_k=5, resamples=0),
                           methods=("centre",))
    assert none["value ±"].isna().all()


def test_classification_half_widths_are_paired_over_images():
    images = np.array([[1.0, 0.1], [0.1, 1.0], [1.0, -0.2], [0.9, 0.0]])
    labels = np.array(["a", "b", "b", "a"])
    classes = np.array([[2.0, 0.0], [0.0, 1.0]])
    np.testing.assert_array_equal(zero_shot_hits(images, labels, ["a", "b"], classes),
                                  [True, True, False, True])
    inputs = GapInputs(images, images, images, images)
    split = LabelledSplit(labels, ["a", "b"], GapInputs(classes, classes, classes, classes),
                          inputs, labels)
    reference = GapReference(np.zeros(2), np.zeros(2), np.array([1.0, 0.0]), np.array([0]))
    frame = classification_measures(inputs, reference, split, ("reconstructed", "bimodal"),
                                    resamples=50)
    value = frame.set_index(["method", "measure"])
    assert value.loc[("reconstructed", "zero_shot"), "value"] == 0.75
    # the two methods are the same map here: same hits, same resamples, same half-width
    assert value.loc[("reconstructed", "zero_shot"), "value ±"] == value.loc[
        ("bimodal", "zero_shot"), "value ±"] > 0


# --- vector arithmetic --------------------------------------------------------------------------

def test_item_ranks_keep_each_query_at_its_row():
    rng = np.random.default_rng(6)
    queries, targets = rng.normal(size=(50, 4)), rng.normal(size=(50, 4))
    ranks = item_ranks(queries, targets, batch_size=16, seed=2)
    assert np.isnan(ranks).sum() == 2                        # 3 batches of 16
    np.testing.assert_array_equal(np.sort(ranks[~np.isnan(ranks)]),
                                  np.sort(target_ranks(queries, targets, 16, 2)))
    np.testing.assert_array_equal(item_ranks(targets, targets, None), np.zeros(50))
    gallery = item_ranks(queries, targets, None)
    assert gallery[7] == target_ranks(queries, targets, None)[7]


def test_arithmetic_half_widths_zero_at_a_ceiling_and_paired_across_queries():
    rng = np.random.default_rng(2)
    targets = rng.normal(size=(300, 8)) + 3 * np.eye(8)[0]
    noisy = targets + 0.8 * rng.normal(size=targets.shape)
    queries = {"source": noisy, "delta": rng.normal(size=(300, 8)) - 3 * np.eye(8)[0],
               "sum": targets, "sae": noisy.copy(), "code": targets}
    frame, _ = arithmetic_measures(queries, targets, ood_k=10, batch_size=128, resamples=40)
    assert list(frame.columns) == ["query", "label", "ood", "ood ±", "retrieval_batched",
                                   "retrieval_batched ±", "retrieval_gallery",
                                   "retrieval_gallery ±", "undirected_queries"]
    assert (frame["undirected_queries"] == 0).all()
    row = frame.set_index("query")
    assert row.loc["delta", "ood"] == 1.0 and row.loc["delta", "ood ±"] == 0.0   # ceiling
    assert row.loc["sum", "retrieval_gallery"] == 1.0
    assert row.loc["sum", "retrieval_gallery ±"] == 0.0
    assert row.loc["source", "retrieval_gallery ±"] > 0
    for column in ("ood ±", "retrieval_batched ±", "retrieval_gallery ±"):
        assert row.loc["source", column] == row.loc["sae", column]   # same resamples
    none, _ = arithmetic_measures(queries, targets, ood_k=10, batch_size=128, resamples=0)
    assert none["ood ±"].isna().all()


# --- tables -------------------------------------------------------------------------------------

def test_tables_put_each_half_width_after_its_number():
    gap = pd.DataFrame({"method": ["reconstructed", "bimodal"], "measure": ["ood", "ood"],
                        "value": [1.0, 0.6], "value ±": [0.0, 0.05]})
    twelve = table12({"toy": gap})
    assert list(twelve.columns[1:9]) == ["toy DiM", "toy DiM ±", "toy sep", "toy sep ±",
                                         "toy RMG", "toy RMG ±", "toy OOD", "toy OOD ±"]
    assert twelve.set_index("method").loc["Ours (Ĩ, T̃)", "toy OOD ±"] == 0.05
    nine = gap_table("table9", {"toy": gap.drop(columns="value ±")})   # an older input
    assert nine["toy ±"].isna().all()
    arithmetic = pd.DataFrame({"query": ["source", "delta", "sum", "sae", "code"],
                               "label": list("abcde"), "ood": [0.5, 1.0, 0.9, 0.7, 0.8],
                               "ood ±": [0.1, 0.0, 0.02, 0.03, 0.04],
                               "retrieval_batched": [0.1, 0.2, 0.3, 0.4, 0.5],
                               "retrieval_batched ±": [0.01] * 5,
                               "retrieval_gallery": [0.0, 0.1, 0.2, 0.3, 0.4],
                               "retrieval_gallery ±": [0.02] * 5})
    two = table2({"toy": arithmetic})
    assert list(two.columns) == ["model", "Q", "Q ±", "Q_SAE", "Q_SAE ±"]
    assert two.iloc[0][["Q", "Q ±", "Q_SAE", "Q_SAE ±"]].tolist() == [0.9, 0.02, 0.7, 0.03]
    assert np.isnan(two.iloc[1]["Q ±"])                      # the paper's row has none
    assert list(table7({"toy": arithmetic}).columns) == ["query", "label", "toy", "toy ±",
                                                         "CLIP (paper)"]
    assert list(table8({"toy": arithmetic, "other": arithmetic}).columns) == [
        "query", "label", "toy", "toy ±", "other", "other ±", "toy (gallery)",
        "toy (gallery) ±", "other (gallery)", "other (gallery) ±", "CLIP (paper)"]


def test_a_method_with_too_few_directed_pairs_has_no_interval_but_its_share_has_one():
    image, text = clouds(n=40)
    image[3:] = 0.0                                          # 3 directed pairs ≤ ood_k = 5
    settings = GapSettings(ood_k=5, wasserstein_samples=40, recall_batch=16, resamples=30)
    measures, _, items = scored_clouds(image, text, settings)
    assert np.isnan(measures["dim"]) and measures["undirected_pairs"] == pytest.approx(37 / 40)
    with pytest.warns(RuntimeWarning):                       # percentiles of all-NaN draws
        widths = paired_half_widths({"m": items}, 40, settings)
    assert np.isnan(widths["m", "dim"]) and np.isnan(widths["m", "ood"])
    assert widths["m", "undirected_pairs"] > 0


def test_zero_queries_are_left_out_and_counted():
    rng = np.random.default_rng(3)
    targets = rng.normal(size=(40, 6))
    sae = targets.copy()
    sae[:10] = 0.0                       # no bimodal atom active: no direction
    frame, distances = arithmetic_measures({"sum": targets, "sae": sae,
                                            "code": np.zeros_like(targets)},
                                           targets, ood_k=3, batch_size=16, resamples=20)
    row = frame.set_index("query")
    assert row.loc["sum", "undirected_queries"] == 0
    assert row.loc["sae", "undirected_queries"] == 10
    # the 30 directed rows are their own targets: found at rank 0, as the sum's 40
    assert row.loc["sae", "retrieval_gallery"] == row.loc["sum", "retrieval_gallery"] == 1.0
    alone, _ = arithmetic_measures({"sae": targets[10:]}, targets, ood_k=3, batch_size=16,
                                   resamples=0)
    assert row.loc["sae", "ood"] == alone.loc[0, "ood"]          # the directed rows only
    assert row.loc["code", "undirected_queries"] == 40
    assert np.isnan(row.loc["code", ["ood", "retrieval_batched", "retrieval_gallery"]]
                    .astype(float)).all()
    counts = distances.groupby("cloud").size()
    assert counts["sae"] == 30 and "code" not in counts and counts["target"] == 40
