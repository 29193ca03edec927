"""Paper B's toy DGP (appendix C.1), the recovery metrics and a tiny table-5 run."""

import math

import numpy as np
import pytest

from crossmodal.synthetic.dgp import (
    ToyDGP,
    ToySpec,
    beta_quartic,
    experiment_specs,
    ground_truth_view,
    solve_beta,
)
from crossmodal.synthetic.experiment import RecoverySettings, run_recovery, run_table5
from crossmodal.synthetic.recovery import atom_wasserstein, matching_accuracy

TINY = RecoverySettings(epochs=2, batch_size=64, lr=5e-3, n_eval=100)


def one_line_value_error(call, *args, **kwargs) -> str:
    with pytest.raises(ValueError) as error:
        call(*args, **kwargs)
    assert "\n" not in str(error.value)
    return str(error.value)


@pytest.fixture(scope="module")
def experiments() -> dict[str, ToyDGP]:
    return {name: ToyDGP(spec) for name, spec in experiment_specs(d=128, k=8).items()}


# --- DGP ---------------------------------------------------------------------------------------

def test_mixing_coefficients_and_atom_cosine_by_hand():
    appendix = ToySpec(tau1=0.4, tau2=0.3)
    assert appendix.mixing_coefficients == pytest.approx((0.4, 0.6))
    assert appendix.atom_cosine == pytest.approx(0.16 / (0.16 + 0.36))  # τ1²/(τ1² + (1−τ1)²)
    cosine = ToySpec(tau1=0.64, tau2=0.3, mixing="cosine")
    assert cosine.mixing_coefficients == pytest.approx((0.8, 0.6))
    assert cosine.atom_cosine == pytest.approx(0.64)


@pytest.mark.parametrize("mixing", ["appendix", "cosine"])
def test_realised_atom_cosine_is_the_formula(mixing):
    spec = ToySpec(d=32, k=4, L=5, tau1=0.6, tau2=0.2, mixing=mixing)
    dgp = ToyDGP(spec)
    assert dgp.atom_cosine == pytest.approx(spec.atom_cosine, abs=1e-12)


def test_beta_by_hand_and_as_the_only_positive_root_of_the_quartic():
    # L = 2, c_B = 1, c_M = 0, τ2 = ½: β²/(1 + β²) = ½ → β = 1
    assert solve_beta(ToySpec(d=8, k=1, L=2, tau1=1.0, tau2=0.5)) == pytest.approx(1.0)
    spec = ToySpec(tau1=0.4, tau2=0.3)
    roots = np.roots(beta_quartic(spec))
    positive = roots[(np.abs(roots.imag) < 1e-9) & (roots.real > 0)].real
    assert positive == pytest.approx([solve_beta(spec)])
    c_b, c_m = spec.mixing_coefficients
    ratio = 19 * c_b**2 * solve_beta(spec) ** 2
    assert ratio / (1 + 19 * (c_b**2 + c_m**2) * solve_beta(spec) ** 2) == pytest.approx(0.3)


def test_unreachable_tau2_and_impossible_parameters_raise_one_line():
    # appendix mixing, τ1 = 0.35: atom cosine 0.1225 / 0.545 ≈ 0.22 < τ2 = 0.3
    assert "unreachable" in one_line_value_error(ToySpec, tau1=0.35, tau2=0.3)
    one_line_value_error(ToySpec, tau1=0.3, tau2=0.3, mixing="cosine")  # atom cosine = τ2
    # d = 64: 40 atoms in the 16-dim S_I overlap so much that the paired cosine stays < 0.3
    assert "drawn atoms" in one_line_value_error(ToyDGP, experiment_specs(d=64, k=8)["experiment1"])
    one_line_value_error(ToySpec, L=40, k=8)  # 39 bimodal atoms of 32
    one_line_value_error(ToySpec, d=3)
    one_line_value_error(ToySpec, tau1=1.2)
    one_line_value_error(ToySpec, tau2=0.0)
    one_line_value_error(ToySpec, mixing="other")


def test_atoms_are_unit_and_orthogonal_across_the_required_groups(experiments):
    g = experiments["experiment1"].groups
    for atoms in (g.image, g.text, g.bimodal, g.bimodal_image, g.bimodal_text):
        assert np.linalg.norm(atoms, axis=1) == pytest.approx(1.0)
    orthogonal = [(g.image, g.text), (g.image, g.bimodal), (g.image, g.bimodal_text),
                  (g.bimodal_image, g.text), (g.bimodal_image, g.bimodal_text),
                  (g.bimodal, g.bimodal_image), (g.bimodal, g.text)]
    for first, second in orthogonal:
        assert np.abs(first @ second.T).max() < 1e-12
    assert np.abs(g.image @ g.bimodal_image.T).max() > 0.01  # same subspace S_I: not orthogonal


def test_sample_is_seeded_unit_norm_with_L_minus_1_bimodal_atoms(experiments):
    dgp = experiments["experiment2"]
    sample = dgp.sample(50, seed=3)
    assert sample.image.shape == sample.text.shape == (50, 128)
    assert sample.image.dtype == np.float32
    assert np.linalg.norm(sample.image, axis=1) == pytest.approx(1.0, abs=1e-6)
    assert np.linalg.norm(sample.text, axis=1) == pytest.approx(1.0, abs=1e-6)
    assert (sample.bimodal.sum(1) == 19).all()
    assert np.array_equal(dgp.sample(50, seed=3).image, sample.image)
    assert not np.array_equal(dgp.sample(50, seed=4).image, sample.image)


@pytest.mark.parametrize("name", ["experiment1", "experiment2"])
def test_realised_mean_paired_cosine_is_tau2(experiments, name):
    sample = experiments[name].sample(20_000, seed=11)
    assert abs(sample.paired_cosine - 0.3) < 0.01


@pytest.mark.parametrize("view, n_atoms, l0", [("D1", 14 * 8, 1 + 2 * 19), ("D2", 10 * 8, 20)])
def test_ground_truth_codes_reproduce_the_embeddings(experiments, view, n_atoms, l0):
    dgp = experiments["experiment1"]
    sample = dgp.sample(200, seed=5)
    truth = dgp.ground_truth(sample, view)
    assert truth.atoms.shape == (n_atoms, 128)
    assert np.linalg.norm(truth.atoms, axis=1) == pytest.approx(1.0)
    for codes, x in ((truth.image_codes, sample.image), (truth.text_codes, sample.text)):
        assert codes.shape == (200, n_atoms)
        assert np.abs(codes @ truth.atoms - x).max() < 1e-5
        assert (np.count_nonzero(codes, axis=1) == l0).all()


def test_active_view_misses_only_the_small_modality_terms(experiments):
    dgp = experiments["experiment2"]
    sample = dgp.sample(200, seed=5)
    active, full = dgp.ground_truth(sample, "D1_active"), dgp.ground_truth(sample, "D1")
    assert active.atoms.shape == (6 * 8, 128)
    assert np.array_equal(active.image_codes, full.image_codes[:, :48])
    missing = full.image_codes[:, 48:] @ full.atoms[48:]
    assert np.abs(sample.image - active.image_codes @ active.atoms - missing).max() < 1e-5
    assert np.linalg.norm(missing, axis=1).max() < 1e-3  # (1 − τ1) β √19 / ‖u‖ ≈ 5e-4


def test_ground_truth_view_follows_iso_energy():
    specs = experiment_specs()
    assert specs["experiment1"].tau1 == pytest.approx(0.4)
    assert ground_truth_view(specs["experiment1"]) == "D2"
    assert ground_truth_view(specs["experiment2"]) == "D1_active"


# --- recovery metrics -------------------------------------------------------------------------

def test_permuted_sign_flipped_truth_is_recovered_exactly():
    rng = np.random.default_rng(0)
    atoms, codes = rng.standard_normal((6, 5)), rng.standard_normal((30, 6))
    order, signs = rng.permutation(6), np.array([1, -1, 1, -1, -1, 1])
    assert atom_wasserstein(signs[:, None] * atoms[order], atoms) == pytest.approx(0, abs=1e-9)
    assert matching_accuracy(codes[:, order] * signs, codes) == pytest.approx(1.0)


def test_wasserstein_two_atoms_by_hand():
    learned = np.array([[1.0, 0.0], [0.0, 2.0]])  # norms do not matter
    truth = np.array([[1.0, 0.0], [0.5, math.sqrt(3) / 2]])
    # costs 1 − |cos|: [[0, ½], [1, 1 − √3/2]]; the plan pairs 1↔1, 2↔2 with mass ½ each
    assert atom_wasserstein(learned, truth) == pytest.approx((1 - math.sqrt(3) / 2) / 2)
    # one learned atom (mass 1) against both true atoms (mass ½ each): ½·0 + ½·½
    assert atom_wasserstein(learned[:1], truth) == pytest.approx(0.25)
    # a dead (zero) atom is dropped
    assert atom_wasserstein(np.vstack([learned[:1], [0.0, 0.0]]), truth) == pytest.approx(0.25)


def test_matching_accuracy_by_hand():
    truth = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])  # columns (1,0,0), (0,1,1)
    codes = np.array([[0.0, -3.0], [2.0, 0.0], [0.0, 0.0]])  # columns (0,2,0), (−3,0,0)
    # |cos|: [[0, 1/√2], [1, 0]] → pairs (1, 2), (2, 1)
    assert matching_accuracy(codes, truth) == pytest.approx((1 + 1 / math.sqrt(2)) / 2)
    with_dead = np.hstack([np.zeros((3, 1)), codes[:, 1:]])  # zero column: similarity 0
    assert matching_accuracy(with_dead, truth) == pytest.approx(0.5)
    assert matching_accuracy(codes[:, 1:], truth) == pytest.approx(1.0)  # min(K, K*) = 1 pair


def test_metrics_reject_mismatched_dimensions():
    one_line_value_error(atom_wasserstein, np.ones((3, 4)), np.ones((3, 5)))
    one_line_value_error(matching_accuracy, np.ones((10, 3)), np.ones((9, 3)))


# --- experiment -------------------------------------------------------------------------------

def test_run_recovery_tiny():
    spec = ToySpec(d=32, k=4, L=5, tau1=0.999, tau2=0.3)
    result = run_recovery(spec, n_train=256, settings=TINY, beta=1e-2, seed=1)
    assert result["n_atoms"] == 24 and result["view"] == "D1_active"
    assert 0 <= result["W"] <= 1 and 0 <= result["mma"] <= 1
    assert np.isfinite(result["r2"]) and result["r2"] <= 1
    assert result["beta"] == 1e-2


def test_run_table5_tiny():
    table = run_table5(d=32, k=4, L=5, n_train=256, settings=TINY, betas=[1e-3])
    assert list(table["model"]) == ["SAE", "SAE-A"] * 2
    assert list(table["experiment"]) == ["experiment1"] * 2 + ["experiment2"] * 2
    assert list(table["n_atoms"]) == [40, 40, 24, 24]
    assert table["W"].between(0, 1).all() and table["mma"].between(0, 1).all()
    assert list(table["paper_W"]) == [0.197, 0.185, 0.396, 0.184]
    assert list(table["paper_mma"]) == [0.83, 0.81, 0.29, 0.52]
    assert set(table.loc[table["model"] == "SAE-A", "beta"]) <= {0.0, 1e-3}
