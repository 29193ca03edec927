"""Gap removal and vector arithmetic (crossmodal.interventions): invariants and hand cases."""

import numpy as np
import pandas as pd
import pytest

from crossmodal.dictionaries import build_dictionary
from crossmodal.dictionaries.identity import IdentityDictionary
from crossmodal.interventions.arithmetic import (
    arithmetic_measures,
    arithmetic_queries,
    example_edit,
    retrieval_score,
    target_ranks,
    top_match,
)
from crossmodal.interventions.evaluation import (
    GapSettings,
    gap_measures,
    probe_accuracy,
    probe_and_evaluated,
    reconstruct,
    zero_shot_accuracy,
)
from crossmodal.interventions.gap_removal import (
    GAP_METHODS,
    GapInputs,
    GapReference,
    project_out,
    random_unit_vector,
    remove_gap,
    schrodi_coordinates,
)
from crossmodal.interventions.illustration import synthetic_modalities, synthetic_reference
from crossmodal.metrics.gap import ood_score
from crossmodal.store import Embeddings
from crossmodal.tables.paper_b_interventions import gap_table, table2, table7, table8, table12


def gapped_clouds(n=400, d=8, seed=0) -> GapInputs:
    rng = np.random.default_rng(seed)
    image = rng.normal(size=(n, d)) + np.eye(d)[0] * 4.0
    text = rng.normal(size=(n, d)) - np.eye(d)[1] * 4.0
    return GapInputs(image, text, image[:, 2:], text[:, 2:])


def test_centre_gives_zero_means_and_shift_equalises_them():
    inputs = gapped_clouds()
    reference = GapReference.fit(inputs.image, inputs.text, seed=0)
    image, text = remove_gap("centre", inputs, reference)
    np.testing.assert_allclose(image.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(text.mean(0), 0, atol=1e-5)
    image, text = remove_gap("shift", inputs, reference)
    np.testing.assert_allclose(image.mean(0), text.mean(0), atol=1e-5)
    np.testing.assert_allclose(image.mean(0), (inputs.image.mean(0) + inputs.text.mean(0)) / 2,
                               atol=1e-5)


def test_random_baseline_is_a_random_unit_direction_not_the_shift():
    inputs = gapped_clouds()
    reference = GapReference.fit(inputs.image, inputs.text, seed=3)
    assert np.linalg.norm(reference.random_direction) == pytest.approx(1.0)
    random_image, _ = remove_gap("random", inputs, reference)
    shift_image, _ = remove_gap("shift", inputs, reference)
    assert not np.allclose(random_image, shift_image)
    np.testing.assert_allclose(random_image.mean(0), reference.random_direction, atol=1e-5)
    np.testing.assert_array_equal(random_unit_vector(8, 3), random_unit_vector(8, 3))
    assert not np.allclose(random_unit_vector(8, 3), random_unit_vector(8, 4))


def test_schrodi_coordinates_by_hand():
    delta = np.array([3.0, 0.0, 4.0, 1.0])            # squares 9, 0, 16, 1; total 26
    np.testing.assert_array_equal(schrodi_coordinates(delta, 0.5), [2])      # 16/26 = 0.62
    np.testing.assert_array_equal(schrodi_coordinates(delta, 0.9), [0, 2])   # 25/26 = 0.96
    np.testing.assert_array_equal(schrodi_coordinates(delta, 1.0), [0, 2, 3])
    with pytest.raises(ValueError, match="schrodi_share"):
        schrodi_coordinates(delta, 0.0)


def test_schrodi_zeroes_its_coordinates_and_projections_remove_their_direction():
    inputs = gapped_clouds()
    reference = GapReference.fit(inputs.image, inputs.text, seed=0)
    image, text = remove_gap("schrodi", inputs, reference)
    assert np.all(image[:, reference.schrodi_coordinates] == 0)
    assert set(reference.schrodi_coordinates) <= {0, 1}
    image, text = remove_gap("project_delta", inputs, reference)
    unit = reference.delta / np.linalg.norm(reference.delta)
    np.testing.assert_allclose(image @ unit, 0, atol=1e-4)
    np.testing.assert_allclose(text @ unit, 0, atol=1e-4)
    image, text = remove_gap("project_means", inputs, reference)
    np.testing.assert_allclose(image @ reference.image_mean, 0, atol=1e-3)
    np.testing.assert_allclose(text @ reference.text_mean, 0, atol=1e-3)


def test_project_out_by_hand():
    x = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_allclose(project_out(x, np.array([0.0, 2.0, 0.0])), [[1.0, 0.0, 3.0]])


def test_unknown_method_is_one_clear_error():
    inputs = gapped_clouds(n=4)
    with pytest.raises(ValueError, match="unknown gap-removal method 'bogus'"):
        remove_gap("bogus", inputs, GapReference.fit(inputs.image, inputs.text, 0))


def test_bimodal_only_with_an_all_bimodal_mask_equals_the_reconstruction():
    rng = np.random.default_rng(0)
    image, text = rng.normal(size=(32, 16)).astype(np.float32), rng.normal(size=(32, 16)).astype(
        np.float32)
    model = build_dictionary({"architecture": "topk", "expansion": 4, "k": 5}, 16, seed=0)
    inputs = reconstruct(model, image, text, np.ones(64, dtype=bool))
    np.testing.assert_allclose(inputs.image_bimodal, inputs.image)
    np.testing.assert_allclose(inputs.text_bimodal, inputs.text)
    none = reconstruct(model, image, text, np.zeros(64, dtype=bool))
    bias = model.decoder_bias.detach().numpy()
    np.testing.assert_allclose(none.image_bimodal, np.broadcast_to(bias, image.shape), atol=1e-6)


def test_arithmetic_queries_on_a_hand_made_dictionary():
    # identity dictionary: codes = x; only the first atom is bimodal
    model = IdentityDictionary(3)
    mask = np.array([True, False, False])
    inputs = reconstruct(model, np.array([[1.0, 2.0, 0.0]], dtype=np.float32),
                         np.array([[0.0, 1.0, 3.0]], dtype=np.float32), mask)
    queries = arithmetic_queries(inputs.image, inputs.image_bimodal, inputs.text,
                                 inputs.text_bimodal)
    np.testing.assert_allclose(queries["source"], [[1, 2, 0]])
    np.testing.assert_allclose(queries["delta"], [[0, 1, 3]])
    np.testing.assert_allclose(queries["sum"], [[1, 3, 3]])
    np.testing.assert_allclose(queries["sae"], [[1, 0, 0]])
    np.testing.assert_allclose(queries["code"], [[1, 2, 0]])


def test_target_ranks_and_retrieval_score():
    rng = np.random.default_rng(1)
    targets = rng.normal(size=(300, 16))
    assert retrieval_score(target_ranks(targets, targets, batch_size=None)) == 1.0
    assert retrieval_score(target_ranks(targets, targets, batch_size=256)) == 1.0
    assert len(target_ranks(targets, targets, batch_size=256)) == 256
    assert retrieval_score(np.array([0, 12, 60])) == pytest.approx((1 / 3 + 2 / 3) / 2)
    # random queries: recall@k ≈ k / gallery size
    ranks = target_ranks(rng.normal(size=(2000, 16)), rng.normal(size=(2000, 16)), None)
    assert (ranks < 200).mean() == pytest.approx(0.1, abs=0.03)
    best, all_ranks = top_match(targets[7], targets)
    assert best == 7 and all_ranks[7] == 0


def test_arithmetic_measures_separate_in_and_out_of_distribution_queries():
    rng = np.random.default_rng(2)
    targets = rng.normal(size=(400, 8)) + 3 * np.eye(8)[0]       # a cone around +e0
    queries = {"source": targets + 0.01 * rng.normal(size=targets.shape),
               "delta": rng.normal(size=(400, 8)) - 3 * np.eye(8)[0],   # the opposite cone
               "sum": targets, "sae": targets, "code": targets}
    measures, distances = arithmetic_measures(queries, targets, ood_k=10, batch_size=256)
    by_query = measures.set_index("query")
    assert by_query.loc["delta", "ood"] > 0.95
    assert by_query.loc["source", "ood"] < 0.6
    assert by_query.loc["sum", "retrieval_gallery"] == 1.0
    assert set(distances["cloud"]) == {"source", "delta", "sum", "sae", "code", "target"}


def test_example_edit_prefers_red_to_blue():
    edits = pd.DataFrame({"family": ["size", "colour", "colour"],
                          "source_value": ["small", "green", "red"],
                          "target_value": ["large", "blue", "blue"]})
    assert example_edit(edits) == 2
    assert example_edit(edits.iloc[:2]) == 1
    assert example_edit(pd.DataFrame({"family": ["dress"]})) == 0


def _embeddings_with_splits(splits: list[str]) -> Embeddings:
    n = len(splits)
    pairs = pd.DataFrame({"pair_id": [f"p{i}" for i in range(n)], "split": splits})
    vectors = np.arange(n, dtype=np.float32)[:, None] * np.ones((1, 2), np.float32)
    return Embeddings(pairs, vectors, vectors, {})


def test_table_11_probe_and_evaluation_pairs_never_share_an_image():
    embeddings = _embeddings_with_splits(["val"] * 30 + ["train"] * 10)
    # another split: the probe reads it, the evaluation keeps the whole val split
    probe, evaluated = probe_and_evaluated(embeddings, "val", "train", 5, 100, seed=0)
    assert set(probe.pairs["split"]) == {"train"} and len(probe.pairs) == 5
    assert len(evaluated.pairs) == 30
    # the same split: 12 held out for the probe, the other 18 evaluated (max_pairs 50)
    probe, evaluated = probe_and_evaluated(embeddings, "val", "val", 12, 50, seed=0)
    assert len(probe.pairs) == 12 and len(evaluated.pairs) == 18
    assert not set(probe.pairs["pair_id"]) & set(evaluated.pairs["pair_id"])
    assert set(probe.pairs["split"]) == set(evaluated.pairs["split"]) == {"val"}
    again, _ = probe_and_evaluated(embeddings, "val", "val", 12, 50, seed=0)
    assert list(again.pairs["pair_id"]) == list(probe.pairs["pair_id"])   # seeded
    _, fewer = probe_and_evaluated(embeddings, "val", "val", 12, 10, seed=0)
    assert len(fewer.pairs) == 10 and not set(fewer.pairs["pair_id"]) & set(probe.pairs["pair_id"])
    with pytest.raises(ValueError, match="only 30"):
        probe_and_evaluated(embeddings, "val", "val", 30, 10, seed=0)


def test_zero_shot_and_probe_accuracy_by_hand():
    images = np.array([[1.0, 0.1], [0.1, 1.0], [1.0, -0.2]])
    classes = np.array([[2.0, 0.0], [0.0, 1.0]])
    assert zero_shot_accuracy(images, ["a", "b", "b"], ["a", "b"], classes) == pytest.approx(2 / 3)
    rng = np.random.default_rng(0)
    train = np.vstack([rng.normal([3, 0], 0.1, (20, 2)), rng.normal([0, 3], 0.1, (20, 2))])
    labels = ["a"] * 20 + ["b"] * 20
    assert probe_accuracy(train, labels, train, labels) == 1.0


def test_bimodal_filter_merges_the_synthetic_clouds_where_centring_and_shift_do_not():
    inputs = synthetic_modalities(n=400, seed=0)
    reference = synthetic_reference(inputs)
    scores = {m: ood_score(*reversed(remove_gap(m, inputs, reference)))
              for m in ("reconstructed", "centre", "shift", "bimodal")}
    assert scores["reconstructed"] > 0.95
    assert scores["centre"] > 0.9 and scores["shift"] > 0.9
    assert scores["bimodal"] < 0.6


def test_gap_measures_cover_every_method_and_measure():
    inputs = gapped_clouds(n=300)
    reference = GapReference.fit(inputs.image, inputs.text, seed=0)
    measures, distances = gap_measures(inputs, reference, GapSettings(wasserstein_samples=100))
    assert set(measures["method"]) == set(GAP_METHODS)
    assert set(measures["measure"]) == {"dim", "w", "sep", "rmg", "ood", "recall@1",
                                        "undirected_pairs"}
    value = measures.set_index(["method", "measure"])["value"]
    assert (measures[measures["measure"] == "undirected_pairs"]["value"] == 0).all()
    assert value["reconstructed", "sep"] > 0.95
    assert value["centre", "dim"] < 0.1 < value["reconstructed", "dim"]
    assert len(distances) == 2 * 300 * len(GAP_METHODS)


def test_paper_tables_lay_out_ours_beside_the_paper():
    inputs = gapped_clouds(n=200)
    reference = GapReference.fit(inputs.image, inputs.text, seed=0)
    measures, _ = gap_measures(inputs, reference, GapSettings(wasserstein_samples=50))
    table = gap_table("table9", {"toy": measures})
    assert list(table.columns) == ["measure", "method", "toy", "toy ±", "CLIP (paper)"]
    assert len(table) == 15
    row = table[(table["measure"] == "DiM") & (table["method"] == "(Î, T̂)")].iloc[0]
    assert row["CLIP (paper)"] == 0.723
    assert row["toy"] == pytest.approx(
        measures.set_index(["method", "measure"]).loc[("reconstructed", "dim"), "value"])
    assert table12({"toy": measures})["CLIP OOD (paper)"].tolist() == [1.0, 0.99, 0.98, 0.89,
                                                                        0.98, 0.63]
    arithmetic = pd.DataFrame({"query": ["source", "delta", "sum", "sae", "code"],
                               "label": list("abcde"), "ood": [0.5, 1.0, 0.9, 0.7, 0.8],
                               "retrieval_batched": [0.1, 0.2, 0.3, 0.4, 0.5],
                               "retrieval_gallery": [0.0, 0.1, 0.2, 0.3, 0.4]})
    assert table2({"toy": arithmetic}).iloc[0][["Q", "Q_SAE"]].tolist() == [0.9, 0.7]
    assert table7({"toy": arithmetic})["CLIP (paper)"].iloc[3] == 0.63
    assert table8({"toy": arithmetic})["toy (gallery)"].tolist() == [0.0, 0.1, 0.2, 0.3, 0.4]


def test_pairs_without_a_direction_are_left_out_and_counted():
    from crossmodal.interventions.evaluation import (
        GapSettings,
        directed_pairs,
        score_clouds,
        zero_shot_accuracy,
    )
    rng = np.random.default_rng(0)
    image, text = rng.normal(size=(60, 4)), rng.normal(size=(60, 4))
    image[:6] = 0.0                         # no bimodal latent fired: Ĩ = 0
    assert directed_pairs(image, text).sum() == 54
    measures, _ = score_clouds(image, text, GapSettings(ood_k=3, wasserstein_samples=60))
    assert measures["undirected_pairs"] == pytest.approx(0.1)
    assert all(np.isfinite(v) for v in measures.values())
    kept, _ = score_clouds(image[6:], text[6:], GapSettings(ood_k=3, wasserstein_samples=60))
    assert measures["dim"] == pytest.approx(kept["dim"])
    # a zero image is a zero-shot miss even when its label is the first class
    classes = np.eye(2)
    assert zero_shot_accuracy(np.array([[0.0, 0.0], [1.0, 0.1]]), ["a", "a"], ["a", "b"],
                              classes) == 0.5
