"""Geometry metrics of paper B E.2 against hand-computed values on tiny cases."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.optimize import linprog

from crossmodal.dictionaries import build_dictionary
from crossmodal.dictionaries.evaluate import encode_in_batches
from crossmodal.geometry import bridge as bridge_module
from crossmodal.geometry.bridge import (
    alignment_of_masses,
    bridge_group_masses,
    bridge_mass_by_group,
    bridge_matrix,
    cross_covariance,
    energy_transport,
    fda,
    functional_alignment,
    group_masses,
    latent_groups,
    modality_bridge,
    quantile_mask,
    quantile_threshold,
    transport_plan,
)
from crossmodal.geometry.coactivation import (
    add_outer_products,
    coactivation,
    connectivity,
    negative_interference,
    normalise_columns,
)
from crossmodal.geometry.intervention import recall_drop
from crossmodal.geometry.probing import atom_centre, p_acc, probe_accuracies
from crossmodal.geometry.ranks import (
    atom_cosines,
    blockwise_kth_value,
    coherence,
    effective_rank,
    energy_weighted,
    matrix_quantile_threshold,
    stable_rank,
)
from crossmodal.geometry.stability import dictionary_distance, stability
from crossmodal.geometry.suite import (
    FLOAT64_MAX_LATENTS,
    accumulator_dtype,
    dictionary_metrics,
)
from crossmodal.metrics.retrieval import recall_at_k
from crossmodal.modality.energy import energies, modality_score
from datafiles import paired_embeddings


def sparse_codes(n: int, k: int, active: int, seed: int) -> torch.Tensor:
    """(n, k) non-negative codes with ``active`` random non-zeros per row."""
    generator = torch.Generator().manual_seed(seed)
    codes = torch.zeros(n, k, dtype=torch.float64)
    support = torch.rand(n, k, generator=generator).argsort(1)[:, :active]
    codes.scatter_(1, support, torch.rand(n, active, generator=generator, dtype=torch.float64))
    return codes


# ---- structure in D -------------------------------------------------------------------------

def test_ranks_of_a_diagonal_matrix():
    matrix = torch.diag(torch.tensor([3.0, 1.0, 0.0]))
    expected_effective = math.exp(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25)))
    for symmetric in (False, True):
        assert stable_rank(matrix, symmetric) == pytest.approx(10 / 9)
        assert effective_rank(matrix, symmetric) == pytest.approx(expected_effective)


def test_energy_weighted_ranks_scale_atoms_by_root_energy():
    weighted = energy_weighted(np.eye(2), np.array([4.0, 1.0]))
    np.testing.assert_allclose(weighted.numpy(), np.diag([2.0, 1.0]))
    assert stable_rank(weighted) == pytest.approx(5 / 4)


def test_coherence_is_the_largest_signed_cosine_between_distinct_atoms():
    atoms = torch.tensor([[1.0, 0.0], [1.2, 1.6], [-1.0, 0.0], [0.0, 0.0]])
    # cosines: (0,1) 0.6, (0,2) −1, (1,2) −0.6; the zero atom is ignored
    assert coherence(atoms) == pytest.approx(0.6)
    assert coherence(atoms, block_size=1) == pytest.approx(0.6)
    assert coherence(atoms[[0, 2]]) == pytest.approx(-1.0)
    assert math.isnan(coherence(atoms[[0, 3]]))  # a single non-zero atom


# ---- structure in ZᵀZ -----------------------------------------------------------------------

HAND_CODES = torch.tensor([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]],
                          dtype=torch.float64)
HAND_ATOMS = torch.tensor([[1.0, 0.0], [-0.6, 0.8], [0.0, 1.0]], dtype=torch.float64)


def test_connectivity_and_negative_interference_by_hand():
    gram = coactivation(HAND_CODES, batch_size=1)
    np.testing.assert_allclose(gram.numpy(), [[2, 1, 0], [1, 2, 0], [0, 0, 0]])
    normalised = normalise_columns(gram)
    np.testing.assert_allclose(normalised.numpy(), [[1, 0.5, 0], [0.5, 1, 0], [0, 0, 0]])
    assert connectivity(gram) == pytest.approx(1 - 4 / 9)
    # only the pair (0, 1) interferes: −0.5 · cos = −0.5 · (−0.6) → 0.3, twice
    assert negative_interference(normalised, HAND_ATOMS) == pytest.approx(0.3 * math.sqrt(2))
    assert negative_interference(normalised, HAND_ATOMS, block_size=1) == pytest.approx(
        0.3 * math.sqrt(2))


@pytest.mark.parametrize("active", [3, 40])  # sparse scatter path, dense product path
def test_outer_products_streaming_equals_dense(active):
    left, right = sparse_codes(50, 64, active, seed=1), sparse_codes(50, 64, active, seed=2)
    generator = torch.Generator().manual_seed(3)
    left[torch.rand(left.shape, generator=generator) < 0.3] *= 0.0   # ragged rows, some empty
    right[torch.rand(right.shape, generator=generator) < 0.3] *= -1.0  # signed codes
    total = torch.zeros(64, 64, dtype=torch.float64)
    add_outer_products(total, left, right)
    np.testing.assert_allclose(total.numpy(), (left.T @ right).numpy(), atol=1e-12)
    for batch_size in (1, 7, 1000):
        np.testing.assert_allclose(coactivation(left, batch_size).numpy(),
                                   (left.T @ left).numpy(), atol=1e-12)
        np.testing.assert_allclose(cross_covariance(left, right, batch_size).numpy(),
                                   (left.T @ right / 50).numpy(), atol=1e-12)


@pytest.mark.parametrize("density", [0.02, 0.5])
def test_cosine_weighted_products_equal_the_dense_formula(density):
    generator = torch.Generator().manual_seed(4)
    weights = torch.randn(64, 64, generator=generator, dtype=torch.float64)
    weights *= torch.rand(64, 64, generator=generator) < density
    atoms = torch.randn(64, 5, generator=generator, dtype=torch.float64)
    expected = weights * atom_cosines(atoms)
    for block_size in (7, 4096):
        np.testing.assert_allclose(bridge_matrix(weights, atoms, block_size=block_size).numpy(),
                                   expected.numpy(), atol=1e-12)
        assert negative_interference(weights, atoms, block_size) == pytest.approx(
            float(torch.relu(-expected).norm()))


# ---- p_acc ----------------------------------------------------------------------------------

# image rows (1, t), text rows (−1, t): the modality direction is the first axis
SPREAD = np.array([-2.0, -1.0, 1.0, 2.0])
PROBE_IMAGE = np.stack([np.ones(4), SPREAD], 1)
PROBE_TEXT = np.stack([-np.ones(4), SPREAD], 1)
PROBE_ATOMS = np.array([[1.0, 0.0],    # image-only, along image − text: acc 1
                        [-1.0, 0.0],   # text-only, along text − image: acc 0 → s = 1
                        [0.0, 1.0],    # bimodal, orthogonal to the gap: acc ½ → s = 1
                        [1.0, 0.1],    # bimodal separating the modalities: acc 1 → s = 0
                        [0.3, 0.7]])   # dead
PROBE_IMAGE_ENERGY = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
PROBE_TEXT_ENERGY = np.array([0.0, 2.0, 1.0, 1.0, 0.0])


def test_p_acc_of_perfect_probes_is_one():
    result = p_acc(PROBE_ATOMS[:3], PROBE_IMAGE, PROBE_TEXT, PROBE_IMAGE_ENERGY[:3],
                   PROBE_TEXT_ENERGY[:3], conventions="paper")
    np.testing.assert_allclose(result.accuracy, [1.0, 0.0, 0.5])
    np.testing.assert_allclose(result.score, [1.0, 1.0, 1.0])
    assert result.p_acc == pytest.approx(1.0)


def test_p_acc_drops_by_the_energy_of_a_useless_bimodal_atom():
    result = p_acc(PROBE_ATOMS, PROBE_IMAGE + 5.0, PROBE_TEXT + 5.0, PROBE_IMAGE_ENERGY,
                   PROBE_TEXT_ENERGY, batch_size=1, conventions="paper")  # data-mean centre
    np.testing.assert_allclose(result.score[:4], [1.0, 1.0, 1.0, 0.0])
    assert np.isnan(result.score[4])
    # E = (0.5, 1, 1, 1, 0): (0.5 + 1 + 1 + 0) / 3.5
    assert result.p_acc == pytest.approx(2.5 / 3.5)


def test_p_acc_conventions_differ_in_centre_and_bimodal_score():
    """Atoms image-only (1, 0), bimodal (0, 1) and bimodal (1, 0.1) with E = (½, 1, 1). The
    authors' centre is Σ E_j D_j / Σ E_j = (0.6, 0.44); the bimodal atom (1, 0.1) separates the
    modalities under both centres (acc 1): the paper scores it 0, the authors 1.5 − 1 = ½."""
    atoms = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.1]])
    image_energy, text_energy = np.array([1.0, 1.0, 1.0]), np.array([0.0, 1.0, 1.0])
    np.testing.assert_allclose(atom_centre(atoms, (image_energy + text_energy) / 2),
                               [0.6, 0.44])
    authors = p_acc(atoms, PROBE_IMAGE, PROBE_TEXT, image_energy, text_energy,
                    conventions="authors")
    paper = p_acc(atoms, PROBE_IMAGE, PROBE_TEXT, image_energy, text_energy,
                  conventions="paper")
    np.testing.assert_allclose(authors.accuracy, [1.0, 0.5, 1.0])
    np.testing.assert_allclose(authors.score, [1.0, 1.0, 0.5])
    np.testing.assert_allclose(paper.score, [1.0, 1.0, 0.0])
    assert authors.p_acc == pytest.approx(2.0 / 2.5)
    assert paper.p_acc == pytest.approx(1.5 / 2.5)


def test_probe_streaming_equals_one_batch():
    image, text = paired_embeddings(60, 6, seed=0)
    atoms = np.random.default_rng(1).normal(size=(10, 6))
    np.testing.assert_array_equal(probe_accuracies(atoms, image, text, batch_size=1),
                                  probe_accuracies(atoms, image, text, batch_size=1000))


# ---- bridges: ρ, mass by group, FDA ----------------------------------------------------------

BRIDGE_ATOMS = torch.tensor([[1.0, 0.0], [0.6, 0.8], [0.6, -0.8], [0.0, 1.0]],
                            dtype=torch.float64)
BRIDGE_SIGMA = torch.tensor([[2.0, 1.0, 1.0, 5.0], [1.0, 3.0, 2.0, 5.0], [0.0, 4.0, 1.0, 5.0],
                             [5.0, 5.0, 5.0, 5.0]], dtype=torch.float64)
BRIDGE_MU = np.array([0.3, 0.97, 0.02, np.nan])  # bimodal, image-only, text-only, dead


def test_bridge_matrix_and_rho_by_hand():
    bridge = bridge_matrix(BRIDGE_SIGMA, BRIDGE_ATOMS, block_size=3)
    np.testing.assert_allclose(bridge[:3, :3].numpy(),
                               [[2.0, 0.6, 0.6], [0.6, 3.0, -0.56], [0.0, -1.12, 1.0]])
    # masses are magnitudes: bimodal-adjacent row 0 (3.2) + column 0 below it (0.6);
    # unimodal 3 + 0.56 + 1.12 + 1
    assert functional_alignment(bridge, BRIDGE_MU, tau=0.05) == pytest.approx(3.8 / 5.68)


def test_bridge_mass_by_group_by_hand():
    bridge = bridge_matrix(BRIDGE_SIGMA, BRIDGE_ATOMS)
    shares = bridge_mass_by_group(bridge, BRIDGE_MU, [0.05, 0.35])
    total = 9.48
    np.testing.assert_allclose(shares["bimodal"], [3.8 / total, 0.0])
    np.testing.assert_allclose(shares["image_image"], [3.0 / total, 3.0 / total])
    # at τ = 0.35 latent 0 (μ = 0.3) turns text-only
    np.testing.assert_allclose(shares["text_text"], [1.0 / total, 3.6 / total])
    np.testing.assert_allclose(shares["image_text"], [1.68 / total, 2.88 / total])


def test_quantile_masks_on_a_four_by_four_case():
    matrix = torch.tensor([[0.1, -0.9, 0.2, 0.3], [0.4, 0.6, 0.5, -0.1],
                           [0.0, 0.8, 0.7, 0.95], [-0.2, -0.3, 0.9, 1.0]])
    # 16 entries: the 0.9-quantile is the 14th smallest (0.9), the 0.999 one the 15th (0.95)
    assert quantile_threshold(matrix, 0.9) == pytest.approx(0.9)
    assert quantile_threshold(matrix, 0.999) == pytest.approx(0.95)
    kept = {(i, j) for i, j in torch.nonzero(quantile_mask(matrix, 0.9)).tolist()}
    assert kept == {(0, 1), (2, 3), (3, 2), (3, 3)}   # |−0.9| ≥ 0.9 survives
    kept = {(i, j) for i, j in torch.nonzero(quantile_mask(matrix, 0.999)).tolist()}
    assert kept == {(2, 3), (3, 3)}


@pytest.mark.parametrize("name", ["authors", "paper"])
def test_blockwise_group_masses_equal_the_dense_bridge(name):
    """The streamed (T, 3, 3) masses of B_Σ equal those of the dense modality_bridge at every τ,
    masks included, over blocks that do not divide K."""
    sigma, atoms, mu = _bias_dictionary(n_concepts=40)
    taus = (0.05, 0.2, 0.45)
    groups = np.stack([latent_groups(mu, tau) for tau in taus])
    masses = bridge_group_masses(sigma, atoms, groups, name, block_size=7)
    dense = modality_bridge(sigma, atoms, name)
    for index, tau in enumerate(taus):
        np.testing.assert_allclose(masses[index], group_masses(dense, groups[index]), rtol=1e-12)
    assert alignment_of_masses(masses[0]) == pytest.approx(functional_alignment(dense, mu))


def test_blockwise_group_masses_by_hand():
    """B = Σ ⊙ D̄D̄ᵀ of the hand case above, no masks: group masses summed from its entries."""
    groups = latent_groups(BRIDGE_MU, 0.05)
    masses = bridge_group_masses(torch.as_tensor(BRIDGE_SIGMA), BRIDGE_ATOMS, groups, "paper",
                                 block_size=2)
    assert masses.shape == (1, 3, 3)
    assert alignment_of_masses(masses[0]) == pytest.approx(3.8 / 5.68)


def test_fda_reuses_a_passed_transport():
    rng = np.random.default_rng(0)
    atoms = torch.as_tensor(rng.normal(size=(12, 4)))
    image_energy, text_energy = rng.random(12), rng.random(12)
    image_energy[:3] *= 0.001
    text_energy[3:6] *= 0.001
    plan = energy_transport(image_energy, text_energy, atoms)
    for name in ("authors", "paper"):
        fresh = fda(image_energy, text_energy, atoms, conventions=name)
        reused = fda(image_energy, text_energy, atoms, conventions=name, transport=plan)
        assert reused.fda == pytest.approx(fresh.fda, nan_ok=True)
        assert reused.cost == pytest.approx(fresh.cost)
    assert plan.mass.sum() == pytest.approx(1.0)


def test_dictionary_metrics_in_float32_accumulators_match_float64():
    image, text = paired_embeddings(300, 8, seed=1)
    model = build_dictionary({"architecture": "topk", "expansion": 4, "k": 3}, 8, seed=0)
    wide = dictionary_metrics(model, image, text, batch_size=64, dtype=torch.float64)
    narrow = dictionary_metrics(model, image, text, batch_size=64, dtype=torch.float32)
    for name in ("stable_rank_z", "effective_rank_z", "connectivity", "rho", "fda"):
        assert narrow[name] == pytest.approx(wide[name], rel=1e-4, nan_ok=True)
    assert accumulator_dtype(FLOAT64_MAX_LATENTS) == torch.float64
    assert accumulator_dtype(FLOAT64_MAX_LATENTS + 1) == torch.float32


def test_blockwise_kth_value_by_hand():
    blocks = [torch.tensor([[3.0, 1.0]]), torch.tensor([[2.0, 2.0], [5.0, 0.0]])]
    # entries 0 1 2 2 3 5: the 4th smallest is 2, the 5th 3
    assert blockwise_kth_value(lambda: iter(blocks), 4, 0.0, 5.0, bins=3) == 2.0
    assert blockwise_kth_value(lambda: iter(blocks), 5, 0.0, 5.0, bins=3) == 3.0
    with pytest.raises(ValueError, match="outside"):
        blockwise_kth_value(lambda: iter(blocks), 7, 0.0, 5.0)


@pytest.mark.parametrize("q", [0.001, 0.5, 0.9, 0.999, 1.0])
def test_matrix_quantile_threshold_equals_the_dense_kthvalue(q):
    generator = torch.Generator().manual_seed(0)
    matrix = torch.randn(70, 50, generator=generator, dtype=torch.float64)
    matrix[matrix < 0.3] = 0  # many ties at 0, as in a sparse Σ
    assert matrix_quantile_threshold(matrix, q, bins=32, block_size=16) == \
        quantile_threshold(matrix, q)


def _bias_dictionary(n_pairs: int = 200, n_concepts: int = 30, seed: int = 0):
    """Atoms (K, 8): an image bias e₀ and a text bias −e₀ that fire (at 1) on every row of their
    modality, then concept atoms orthogonal to e₀ active in both modalities: the first on every
    pair (at 1), two others per pair. Returns Σ (K, K), atoms and μ (K,)."""
    rng = np.random.default_rng(seed)
    concepts = np.concatenate([np.zeros((n_concepts, 1)), rng.normal(size=(n_concepts, 7))], 1)
    atoms = np.concatenate([np.eye(8)[:1], -np.eye(8)[:1], concepts])
    image_codes = np.zeros((n_pairs, len(atoms)))
    text_codes = np.zeros_like(image_codes)
    image_codes[:, 0] = text_codes[:, 1] = 1.0
    image_codes[:, 2] = text_codes[:, 2] = 1.0
    for n in range(n_pairs):
        chosen = 3 + rng.choice(n_concepts - 1, 2, replace=False)
        image_codes[n, chosen] = text_codes[n, chosen] = rng.uniform(0.2, 0.5, 2)
    sigma = torch.as_tensor(image_codes.T @ text_codes / n_pairs)
    mu = modality_score(energies(image_codes), energies(text_codes))
    return sigma, torch.as_tensor(atoms), mu


@pytest.mark.parametrize("name", ["authors", "paper"])
def test_bias_atoms_pointing_apart_give_positive_rho_and_shares_in_range(name):
    sigma, atoms, mu = _bias_dictionary()
    bridge = modality_bridge(sigma, atoms, name)
    assert bridge[0, 1] == pytest.approx(-1.0)      # the two biases: Σ = 1, cos = −1
    groups = torch.as_tensor(latent_groups(mu), dtype=torch.float64)
    unimodal = (groups > 0).double()
    signed_unimodal = float(unimodal @ bridge @ unimodal)
    assert signed_unimodal < 0                      # a signed sum would make ρ negative
    assert functional_alignment(bridge, mu) > 0
    shares = pd.DataFrame(bridge_mass_by_group(bridge, mu, [0.05, 0.2, 0.45]))
    parts = shares[["bimodal", "image_image", "text_text", "image_text"]]
    assert ((parts >= 0) & (parts <= 1)).all().all()
    np.testing.assert_allclose(parts.sum(1), 1.0)


def test_fda_on_a_three_atom_case_solved_by_hand():
    atoms = np.array([[1.0, 0.0], [0.0, 1.0], [0.8, 0.6]])
    image_energy, text_energy = np.array([1.0, 1.0, 0.0]), np.array([0.0, 1.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = fda(image_energy, text_energy, atoms, tau=0.05, conventions="paper")
    # the plan x·(0→1) + (½−x)·(0→2) + (½−x)·(1→1) + x·(1→2) costs 0.1 + 1.2x: x = 0
    moves = sorted(zip(result.source.tolist(), result.target.tolist(), result.mass.tolist()))
    assert moves == [(0, 2, pytest.approx(0.5)), (1, 1, pytest.approx(0.5))]
    assert result.cost == pytest.approx(0.1)
    assert result.alpha == pytest.approx(0.5)      # B_Γ at (1, 1): ½ · 1
    assert result.unimodal == pytest.approx(0.4)   # B_Γ at (0, 2): ½ · 0.8 = (1 − c) − α
    assert result.epsilon == pytest.approx(0.5)    # E = (½, 1, ½)
    assert result.fda == pytest.approx(1.0 * 0.5 / 0.4)


def test_fda_under_the_authors_mask_by_hand():
    """Image-only 0, bimodal 1, text-only 2 (a copy of atom 0) and 3. The plan is 1→1, 0→2,
    0→3 with ⅓ each (cost 0.2/3). Of the 16 cosines the 14th smallest is 1, so the authors'
    mask keeps only |cos| = 1: B_Γ(0, 3) = ⅓ · 0.8 is dropped."""
    atoms = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.8, 0.6]])
    image_energy, text_energy = np.array([2.0, 1.0, 0.0, 0.0]), np.array([0.0, 1.0, 1.0, 1.0])
    authors = fda(image_energy, text_energy, atoms, conventions="authors")
    paper = fda(image_energy, text_energy, atoms, conventions="paper")
    assert authors.cost == pytest.approx(0.2 / 3)
    assert authors.alpha == pytest.approx(1 / 3) and paper.alpha == pytest.approx(1 / 3)
    assert authors.unimodal == pytest.approx(1 / 3)
    assert paper.unimodal == pytest.approx(1.8 / 3)
    assert authors.epsilon == pytest.approx(1 / 3)   # E = (1, 1, ½, ½), μ₁ = ½
    assert authors.fda == pytest.approx(1.0 * (2 / 3) / (1 / 3))
    assert paper.fda == pytest.approx(1.0 * (2 / 3) / 0.6)


def test_fda_is_nan_when_no_latent_is_bimodal():
    atoms = np.array([[1.0, 0.0], [0.0, 1.0]])
    result = fda(np.array([1.0, 0.0]), np.array([0.0, 1.0]), atoms)
    assert result.epsilon == 0.0 and np.isnan(result.fda)


def test_fda_plan_has_the_marginals_and_the_linear_programs_optimum():
    rng = np.random.default_rng(0)
    atoms = rng.normal(size=(7, 3))
    image_energy, text_energy = rng.random(7), rng.random(7)
    image_energy[2] = text_energy[5] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = fda(image_energy, text_energy, atoms)
    a, b = image_energy / image_energy.sum(), text_energy / text_energy.sum()
    np.testing.assert_allclose(np.bincount(result.source, result.mass, minlength=7), a)
    np.testing.assert_allclose(np.bincount(result.target, result.mass, minlength=7), b)
    unit = atoms / np.linalg.norm(atoms, axis=1, keepdims=True)
    cost = 1 - unit @ unit.T
    equalities = np.vstack([np.kron(np.eye(7), np.ones(7)), np.kron(np.ones(7), np.eye(7))])
    optimum = linprog(cost.ravel(), A_eq=equalities, b_eq=np.concatenate([a, b]), method="highs")
    assert result.cost == pytest.approx(optimum.fun, abs=1e-9)


def test_transport_plan_raises_when_the_solver_stops_early(monkeypatch):
    monkeypatch.setattr(bridge_module, "iteration_limit", lambda n, m: 1)
    rng = np.random.default_rng(0)
    a, b = np.full(30, 1 / 30), np.full(30, 1 / 30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match="optimality"):
            transport_plan(a, b, rng.random((30, 30)))


# ---- δ_r@1 ----------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", [{"architecture": "identity"},
                                  {"architecture": "topk", "expansion": 1, "k": 2}])
def test_recall_drop_is_zero_when_every_latent_is_kept(spec):
    image, text = paired_embeddings(300, 4, seed=0)
    model = build_dictionary(spec, 4, seed=0)
    keep_all = np.ones(model.n_latents, dtype=bool)
    assert recall_drop(model, image, text, keep_all, batch_size=64) == 0.0


def test_recall_drop_of_ablating_everything_is_the_full_recall():
    image, text = paired_embeddings(300, 16, seed=0)
    model = build_dictionary({"architecture": "identity"}, 16, seed=0)
    drop = recall_drop(model, image, text, np.zeros(16, dtype=bool), batch_size=64)
    # the identity reconstructs exactly; the ablated rows are all equal (ties count as misses)
    full = recall_at_k(image, text, ks=(1,), batch_size=256, seed=0)[1]
    assert full > 0.5
    assert drop == pytest.approx(full)


# ---- stability ------------------------------------------------------------------------------

def test_stability_ignores_permutations_and_signs():
    atoms = np.random.default_rng(0).normal(size=(6, 4))
    flipped = -atoms[[3, 0, 5, 1, 4, 2]] * 2.0
    assert dictionary_distance(atoms, flipped) == pytest.approx(0.0, abs=1e-12)
    assert stability([atoms, flipped, atoms]) == pytest.approx(0.0, abs=1e-12)


def test_stability_of_a_rotated_basis_by_hand():
    rotated = np.array([[1.0, 1.0], [1.0, -1.0]]) / math.sqrt(2)
    distance = 1 - 1 / math.sqrt(2)
    assert dictionary_distance(np.eye(2), rotated) == pytest.approx(distance)
    assert stability([np.eye(2), np.eye(2), rotated]) == pytest.approx(2 * distance / 3)


# ---- the whole suite, streamed, against dense codes ---------------------------------------------

def test_dictionary_metrics_match_the_metrics_of_dense_codes():
    image, text = paired_embeddings(400, 8, seed=0)
    model = build_dictionary({"architecture": "topk", "expansion": 4, "k": 3}, 8, seed=0)
    metrics = dictionary_metrics(model, image, text, batch_size=64,
                                 conventions=["authors", "paper"])
    image_codes = torch.as_tensor(encode_in_batches(model, image)).double()
    text_codes = torch.as_tensor(encode_in_batches(model, text)).double()
    codes = torch.cat([image_codes, text_codes])
    image_energy, text_energy = energies(image_codes.numpy()), energies(text_codes.numpy())
    atoms = model.dictionary.detach().double()
    normalised = normalise_columns(codes.T @ codes)
    assert metrics["l0"] == pytest.approx(3.0)
    assert metrics["l1"] == pytest.approx(float(codes.abs().sum(1).mean()))
    assert metrics["connectivity"] == pytest.approx(connectivity(normalised))
    assert metrics["stable_rank_z"] == pytest.approx(stable_rank(normalised))
    assert metrics["effective_rank_z"] == pytest.approx(effective_rank(normalised))
    assert metrics["stable_rank_d"] == pytest.approx(stable_rank(atoms), rel=1e-5)
    assert metrics["coherence"] == pytest.approx(coherence(atoms), rel=1e-5)
    sigma = image_codes.T @ text_codes / len(image)
    mu = modality_score(image_energy, text_energy)
    assert metrics["conventions"] == "authors"
    assert metrics["dead_share"] == pytest.approx(float(np.isnan(mu).mean()))
    for name, suffix in (("authors", ""), ("paper", "_paper")):
        # at K = 32 the authors' masks can leave no unimodal mass (NaN); equal NaNs match
        assert metrics["rho" + suffix] == pytest.approx(
            functional_alignment(modality_bridge(sigma, atoms, name), mu), rel=1e-5, nan_ok=True)
        assert metrics["fda" + suffix] == pytest.approx(
            fda(image_energy, text_energy, atoms, conventions=name).fda, rel=1e-4, nan_ok=True)
        assert metrics["p_acc" + suffix] == pytest.approx(
            p_acc(atoms, image, text, image_energy, text_energy, conventions=name).p_acc,
            rel=1e-5)
    assert np.isfinite(metrics["rho_paper"]) and np.isfinite(metrics["fda_paper"])
    assert metrics["delta_r1"] == pytest.approx(
        metrics["recall1_full"] - metrics["recall1_bimodal"])
    assert np.isfinite(metrics["delta_r1"]) and np.isfinite(metrics["negative_interference"])


def test_dictionary_metrics_without_a_decoder_leave_atom_metrics_undefined():
    image, text = paired_embeddings(100, 8, seed=0)
    model = build_dictionary({"architecture": "ncl", "expansion": 1}, 8, seed=0)
    metrics = dictionary_metrics(model, image, text, batch_size=64)
    assert np.isnan(metrics["fda"]) and np.isnan(metrics["coherence"])
    assert 0.0 <= metrics["connectivity"] <= 1.0 and metrics["l0"] > 0
