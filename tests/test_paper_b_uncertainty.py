"""Half-widths of paper B's dictionary metrics (tables 1, 3, 4) and of table 5's W and mma."""

import math

import numpy as np
import pytest
import torch
from scipy import sparse

from crossmodal.dictionaries import build_dictionary
from crossmodal.geometry.bridge import bridge_cosines, fda, modality_bridge, quantile_threshold
from crossmodal.geometry.resampling import (
    N_COLUMN,
    SOURCE_COLUMN,
    block_quantile_threshold,
    live_bridge,
    metric_half_widths,
    pair_hits,
    pair_items,
    pair_statistic,
    pair_weights,
    seed_half_widths,
    weighted_accuracy,
    weighted_cross_covariance,
    weighted_energy,
    weighted_mean,
)
from crossmodal.geometry.suite import dictionary_metrics
from crossmodal.metrics.retrieval import recall_at_k
from crossmodal.report.tables import write_table
from crossmodal.synthetic.recovery import (
    atom_half_widths,
    atom_transport_costs,
    atom_wasserstein,
    matched_similarities,
    matching_accuracy,
)
from crossmodal.tables.paper_b import (
    architecture_table,
    interval_notes,
    table1,
)
from datafiles import paired_embeddings

T_975_1 = 12.706204736174707  # t_{0.975, 1}


# ---- the weighted pieces, by hand ---------------------------------------------------------------

def test_pair_weights_count_each_pair_of_the_resample():
    assert pair_weights(np.array([0, 0, 2]), 3).tolist() == [2.0, 0.0, 1.0]


def test_weighted_mean_averages_columns_and_skips_nan_rows():
    values = np.array([[1.0, 3.0], [5.0, 7.0], [np.nan, np.nan]])
    assert weighted_mean(values, np.array([2.0, 1.0, 1.0])) == pytest.approx(10 / 3)


def test_weighted_energy_and_cross_covariance():
    image = sparse.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0]]))
    text = sparse.csr_matrix(np.array([[2.0, 0.0], [0.0, 3.0]]))
    # E = (3·1², 1·1²... ) / Σw: latent 0 fires on pair 0 (weight 3), latent 1 on pair 1 (weight 1)
    assert weighted_energy(image, np.array([3.0, 1.0])) == pytest.approx([0.75, 0.25])
    assert weighted_energy(text, np.array([3.0, 1.0])) == pytest.approx([3.0, 2.25])
    sigma = weighted_cross_covariance(image, text, np.array([1.0, 1.0])).numpy()
    assert sigma == pytest.approx(np.array([[1.0, 0.0], [0.0, 1.5]]))
    sigma = weighted_cross_covariance(image, text, np.array([2.0, 0.0])).numpy()
    assert sigma == pytest.approx(np.array([[2.0, 0.0], [0.0, 0.0]]))


def test_weighted_accuracy_counts_image_above_and_text_at_or_below_the_offset():
    image_scores, text_scores = np.array([[1.0], [-1.0]]), np.array([[-1.0], [0.0]])
    # image rows: 1 of 2 above 0; text rows: 2 of 2 at or below 0 → 3/4
    assert weighted_accuracy(image_scores, text_scores, np.zeros(1),
                             np.array([1.0, 1.0])) == pytest.approx([0.75])
    # only pair 0, twice: both its rows are right
    assert weighted_accuracy(image_scores, text_scores, np.zeros(1),
                             np.array([2.0, 0.0])) == pytest.approx([1.0])


def test_pair_hits_by_hand_and_their_mean_is_recall_at_1():
    eye = torch.eye(3)
    hits = pair_hits(eye, eye, batch_size=2, seed=0)          # one full batch of 2, one pair out
    assert np.isnan(hits).sum() == 1 and np.nansum(hits) == 2.0
    swapped = pair_hits(torch.eye(2), torch.eye(2).flip(0), batch_size=2)
    assert swapped.tolist() == [0.0, 0.0]                      # each image finds the other text
    image, text = paired_embeddings(300, 8, seed=1)
    hits = pair_hits(torch.as_tensor(image), torch.as_tensor(text), batch_size=64, seed=3)
    assert np.nanmean(hits) == pytest.approx(recall_at_k(image, text, (1,), 64, 3)[1])


def test_block_quantile_threshold_counts_the_zeros_outside_the_block():
    block = torch.tensor([[-2.0, 1.0], [3.0, 0.0]])
    # with 12 zeros outside: 16 entries sorted −2, 0 × 13, 1, 3
    assert block_quantile_threshold(block, 16, 1 / 16) == -2.0
    assert block_quantile_threshold(block, 16, 0.5) == 0.0
    assert block_quantile_threshold(block, 16, 15 / 16) == 1.0
    assert block_quantile_threshold(block, 16, 1.0) == 3.0
    rng = np.random.default_rng(0)
    full = torch.zeros(9, 9, dtype=torch.float64)
    full[:4, :4] = torch.as_tensor(rng.normal(size=(4, 4)))
    for q in (0.01, 0.3, 0.9, 0.95, 0.999):
        assert block_quantile_threshold(full[:4, :4], 81, q) == quantile_threshold(full, q)


def test_live_bridge_is_the_live_block_of_the_modality_bridge():
    rng = np.random.default_rng(2)
    atoms = torch.as_tensor(rng.normal(size=(9, 5)))
    sigma = torch.zeros(9, 9, dtype=torch.float64)
    live = np.array([1, 4, 5, 7])
    sigma[np.ix_(live, live)] = torch.as_tensor(rng.normal(size=(4, 4)))
    for name in ("authors", "paper"):
        full = modality_bridge(sigma, atoms, name)
        block = live_bridge(sigma[np.ix_(live, live)],
                            bridge_cosines(atoms, name)[np.ix_(live, live)], 81,
                            {"authors": 0.999, "paper": None}[name])
        assert torch.allclose(block, full[np.ix_(live, live)])
        assert float(full.abs().sum()) == pytest.approx(float(block.abs().sum()))


# ---- the bootstrap statistic against the suite --------------------------------------------------

def test_pair_statistic_on_all_pairs_is_the_suites_point_estimate():
    image, text = paired_embeddings(300, 8, seed=0)
    model = build_dictionary({"architecture": "topk", "expansion": 4, "k": 3}, 8, seed=0)
    names = ["authors", "paper"]
    reference = dictionary_metrics(model, image, text, tau=0.05, batch_size=64,
                                   conventions=names)
    items = pair_items(model, image, text, 0.05, batch_size=64)
    point = pair_statistic(items, 0.05, names)(np.arange(items.n_pairs))
    for key, value in point.items():
        assert value == pytest.approx(reference[key], rel=1e-6, abs=1e-9, nan_ok=True), key
    # a resample of pair 0 only: its MSE is pair 0's mean residual, its energies pair 0's z²
    only = pair_statistic(items, 0.05, names)(np.zeros(items.n_pairs, dtype=int))
    assert only["mse"] == pytest.approx(items.residual[0].mean())
    energy_i = items.image_codes[0].toarray().ravel() ** 2
    energy_t = items.text_codes[0].toarray().ravel() ** 2
    assert only["fda"] == pytest.approx(fda(energy_i, energy_t, items.atoms).fda, nan_ok=True)


def test_metric_half_widths_seeds_and_bootstrap():
    image, text = paired_embeddings(200, 8, seed=0)
    model = build_dictionary({"architecture": "topk", "expansion": 4, "k": 3}, 8, seed=0)
    seeds = metric_half_widths(model, {"mse": 1.0, "conventions": "authors"}, [{"mse": 3.0}],
                               image, text, 0.05, ["authors"], {"resamples": 5, "level": 0.95}, 0)
    assert seeds[SOURCE_COLUMN] == "seeds" and seeds[N_COLUMN] == 2
    assert seeds["mse ±"] == pytest.approx(T_975_1)           # t·s/√2 with s = √2
    pairs = metric_half_widths(model, {}, [], image, text, 0.05, ["authors"],
                               {"resamples": 20, "level": 0.95}, 0, batch_size=64)
    assert pairs[SOURCE_COLUMN] == "pairs" and pairs[N_COLUMN] == 200
    assert pairs["l0 ±"] == 0.0                                 # TopK: ℓ0 = k on every row
    assert pairs["mse ±"] > 0 and pairs["p_acc ±"] >= 0
    again = metric_half_widths(model, {}, [], image, text, 0.05, ["authors"],
                               {"resamples": 20, "level": 0.95}, 0, batch_size=64)
    assert again["mse ±"] == pairs["mse ±"]                      # seeded
    ncl = build_dictionary({"architecture": "ncl", "expansion": 1}, 8, seed=0)
    assert metric_half_widths(ncl, {}, [], image, text, 0.05, ["authors"],
                              {"resamples": 5, "level": 0.95}, 0)[SOURCE_COLUMN] == "none"


def test_seed_half_widths_skip_what_is_not_a_number_in_every_replica():
    widths = seed_half_widths([{"a": 1.0, "b": 2, "c": "authors", "d": 1.0},
                               {"a": 3.0, "b": 2, "c": "authors"}], 0.95)
    assert widths == {"a ±": pytest.approx(T_975_1), "b ±": 0.0}


# ---- table 5: per-atom W and mma, and their bootstrap -------------------------------------------

def test_atom_transport_costs_by_hand_and_their_mean_is_w():
    learned = np.array([[1.0, 0.0], [0.0, 1.0]])
    truth = np.array([[1.0, 0.0], [1.0, 1.0]]) / np.array([[1.0], [np.sqrt(2)]])
    # C = [[0, 1 − 1/√2], [1, 1 − 1/√2]]: the identity plan costs 1 − 1/√2, the swap 2 − 1/√2
    costs = atom_transport_costs(learned, truth)
    assert costs == pytest.approx([0.0, 1 - 1 / np.sqrt(2)])
    assert costs.mean() == pytest.approx(atom_wasserstein(learned, truth))
    rng = np.random.default_rng(0)
    learned, truth = rng.normal(size=(7, 5)), rng.normal(size=(6, 5))
    learned[2] = 0                                               # dead atom dropped
    assert atom_transport_costs(learned, truth).mean() == pytest.approx(
        atom_wasserstein(learned, truth))


def test_matched_similarities_mean_is_mma():
    codes = np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]])
    assert matched_similarities(codes, codes[:, ::-1]) == pytest.approx([1.0, 1.0])
    rng = np.random.default_rng(1)
    codes, truth = rng.normal(size=(50, 4)), rng.normal(size=(50, 3))
    assert matched_similarities(codes, truth).mean() == pytest.approx(
        matching_accuracy(codes, truth))


def test_atom_half_widths_by_hand():
    widths = atom_half_widths({"W": np.full(5, 0.3), "mma": np.array([0.0, 1.0])}, 200, 0)
    assert widths["W"] == 0.0                                    # no spread across atoms
    # means of two resampled atoms ∈ {0, ½, 1}, each end with probability ¼: 2.5 % → 0, 97.5 % → 1
    assert widths["mma"] == pytest.approx(0.5)


# ---- the tables ---------------------------------------------------------------------------------

def test_table1_puts_each_half_width_right_after_its_column():
    sae = {"mse": 0.5, "mse ±": 0.1, "uncertainty_source": "pairs", "uncertainty_n": 100}
    table = table1({"toyclip": {"SAE": sae, "SAE-A": {"mse": 0.6}}}).set_index("metric")
    assert list(table.columns) == ["conventions", "toyclip SAE", "toyclip SAE ±",
                                   "toyclip SAE-A", "toyclip SAE-A ±", "CLIP SAE (paper)",
                                   "CLIP SAE-A (paper)"]
    assert table.loc["MSE (↓)", "toyclip SAE ±"] == 0.1
    assert math.isnan(table.loc["MSE (↓)", "toyclip SAE-A ±"])


def test_architecture_table_half_width_sits_between_ours_and_the_papers():
    table = architecture_table({"SAE": {"r2": 0.9, "r2 ±": 0.02}}, "table3")
    assert list(table.columns) == ["metric", "conventions", "SAE", "SAE ±", "SAE (paper)"]
    assert table.set_index("metric").loc["R² (↑)", "SAE ±"] == 0.02


def test_markdown_shows_value_plus_minus_half_width_and_the_notes(tmp_path):
    table = architecture_table({"SAE": {"r2": 0.9, "r2 ±": 0.02}}, "table3")
    notes = interval_notes({"SAE": {"uncertainty_source": "seeds", "uncertainty_n": 2},
                            "TopK": {"uncertainty_source": "pairs", "uncertainty_n": 2000},
                            "NCL": {}})
    assert "n = 2 seed replicas" in notes[0] and "t = 12.7" in notes[0]
    assert "n is small" in notes[0]
    assert "n = 2000 evaluation pairs" in notes[1] and notes[2] == "NCL: no interval"
    write_table(table, tmp_path / "t.csv", tmp_path / "t.md", notes=notes)
    text = (tmp_path / "t.md").read_text()
    assert "0.9 ± 0.02" in text and "SAE ±" not in text and "- SAE: t-interval" in text
