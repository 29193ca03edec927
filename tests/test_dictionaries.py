"""The dictionary family on hand-made and planted cases."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest
import torch

from crossmodal.dictionaries import build_dictionary
from crossmodal.dictionaries.alignment import alignment_penalty, zero_top1
from crossmodal.dictionaries.batchtopk import BatchTopKSAE
from crossmodal.dictionaries.beta import beta_grid, select_beta
from crossmodal.dictionaries.evaluate import (
    CodeCache,
    code_statistics,
    energy_shares,
    paired_codes,
)
from crossmodal.dictionaries.identity import IdentityDictionary
from crossmodal.dictionaries.jumprelu import JumpReLUSAE
from crossmodal.dictionaries.mp import first_argmax, gram_rows, matching_pursuit, pursuit_path
from crossmodal.dictionaries.ncl import MultimodalNCL
from crossmodal.dictionaries.settings import training_pairs, training_settings
from crossmodal.dictionaries.topk import TopKSAE
from crossmodal.dictionaries.trainer import (
    DictionaryTraining,
    TrainingDiverged,
    per_instance_r2,
    train_dictionary,
)


def test_first_argmax_by_hand_with_a_tie_across_blocks():
    # columns 1 and 6 tie at 5; blocks of 4: the first block wins, so the first index (1) is kept
    x = torch.tensor([[0.0, 5.0, 1.0, 2.0, 3.0, 4.0, 5.0, 0.0],
                      [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 9.0]])
    assert first_argmax(x, block=4).tolist() == [1, 7]


@pytest.mark.parametrize("columns", [2048, 384, 100])
def test_first_argmax_equals_torch_argmax(columns):
    generator = torch.Generator().manual_seed(columns)
    x = torch.randint(0, 50, (64, columns), generator=generator).float()  # many ties
    assert torch.equal(first_argmax(x), x.argmax(dim=-1))


def test_matching_pursuit_two_atoms_by_hand():
    atoms = torch.tensor([[1.0, 0.0], [1 / math.sqrt(2), 1 / math.sqrt(2)]])
    x = torch.tensor([[1.0, 2.0]])
    codes, residual = matching_pursuit(x, atoms, steps=2)
    # step 1 picks atom 2 (3/√2 > 1), residual (−½, ½); step 2 picks atom 1 (|−½| > 0)
    assert torch.allclose(codes, torch.tensor([[-0.5, 3 / math.sqrt(2)]]))
    assert torch.allclose(residual, torch.tensor([[0.0, 0.5]]))
    assert torch.allclose(codes @ atoms, x - residual)


def test_matching_pursuit_max_selection_by_hand():
    """x = (−2, 1) on atoms e₀, e₁: |·| selection takes e₀ (c = −2) then e₁; the authors' max
    selection takes e₁ (c = 1), then finds no positive correlation (e₀: −2, e₁: 0) and adds 0."""
    atoms, x = torch.eye(2), torch.tensor([[-2.0, 1.0]])
    codes, residual = matching_pursuit(x, atoms, steps=2, selection="abs")
    assert torch.equal(codes, torch.tensor([[-2.0, 1.0]]))
    codes, residual = matching_pursuit(x, atoms, steps=2, selection="max")
    assert torch.equal(codes, torch.tensor([[0.0, 1.0]]))
    assert torch.equal(residual, torch.tensor([[-2.0, 0.0]]))


def test_mp_conventions_set_selection_initialisation_and_pre_bias():
    authors = build_dictionary({"architecture": "mp", "expansion": 4, "k": 3}, d=8, seed=1)
    assert (authors.selection, authors.atom_norm, authors.atom_init, authors.pre_bias_init) == (
        "max", "identity", "xavier", "none")
    assert not authors.pre_bias.requires_grad and torch.equal(authors.pre_bias, torch.zeros(8))
    bound = math.sqrt(6 / (32 + 8))                          # xavier_uniform_ on (K, d)
    assert authors.atoms.abs().max() <= bound and authors.atoms.abs().max() > 0.5 * bound
    paper = build_dictionary({"architecture": "mp", "expansion": 4, "k": 3,
                              "convention": "paper"}, d=8, seed=1)
    assert (paper.selection, paper.atom_norm, paper.atom_init) == ("abs", "unit", "random")
    torch.testing.assert_close(paper.atoms.norm(dim=1), torch.ones(32))
    again = build_dictionary({"architecture": "mp", "expansion": 4, "k": 3}, d=8, seed=1)
    assert torch.equal(authors.atoms, again.atoms)            # seeded xavier draw
    override = build_dictionary({"architecture": "mp", "expansion": 4, "k": 3,
                                 "selection": "abs", "atom_init": "data"}, d=8)
    assert (override.selection, override.atom_init, override.convention) == (
        "abs", "data", "authors")
    with pytest.raises(ValueError, match="selection"):
        build_dictionary({"architecture": "mp", "expansion": 4, "k": 3, "selection": "top"}, d=8)


def test_matching_pursuit_residual_never_grows_with_unit_atoms():
    generator = torch.Generator().manual_seed(0)
    atoms = torch.nn.functional.normalize(torch.randn(64, 16, generator=generator), dim=1)
    x = torch.randn(32, 16, generator=generator)
    norms = [x.norm(dim=1)]
    for steps in range(1, 6):
        norms.append(matching_pursuit(x, atoms, steps)[1].norm(dim=1))
    for before, after in itertools.pairwise(norms):
        assert (after <= before + 1e-5).all()


def test_sparse_decode_without_autograd_equals_the_dense_product():
    model = build_dictionary({"architecture": "topk", "expansion": 8, "k": 3}, 16, seed=0)
    x = torch.randn(20, 16, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        codes = model.encode(x)
        sparse = model.decode(codes)           # 3 of 128 non-zero: the COO route
        dense = codes @ model.dictionary + model.decoder_bias
    torch.testing.assert_close(sparse, dense)
    assert model.decode(codes).requires_grad  # with autograd: the dense, differentiable route


def test_gram_rows_on_demand_equal_the_formed_gram():
    atoms = torch.tensor([[1.0, 0.0], [0.6, 0.8], [0.0, 2.0]])
    index = torch.tensor([2, 0])
    expected = torch.tensor([[0.0, 1.6, 4.0], [1.0, 0.6, 0.0]])
    torch.testing.assert_close(gram_rows(atoms)(index), expected)
    torch.testing.assert_close(gram_rows(atoms, max_bytes=0)(index), expected)


@pytest.mark.parametrize("selection", ["abs", "max"])
def test_pursuit_without_the_gram_matrix_takes_the_same_path(selection):
    """Bounding memory (no K × K Gram) must not change a single choice."""
    generator = torch.Generator().manual_seed(3)
    atoms = torch.randn(256, 16, generator=generator, dtype=torch.float64)
    x = torch.randn(40, 16, generator=generator, dtype=torch.float64)
    formed = pursuit_path(x, atoms, 12, selection)
    on_demand = pursuit_path(x, atoms, 12, selection, max_gram_bytes=0)
    assert torch.equal(formed, on_demand)


@pytest.mark.parametrize("model_class", [TopKSAE, BatchTopKSAE])
def test_sparse_training_path_has_the_dense_gradients(model_class):
    """SelectingSAE.forward (sparse gathers, COO product, embedding_bag) must give the same codes,
    reconstruction and parameter gradients as the dense formula decode(activate(pre(x)))."""
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(24, 8, generator=generator)
    target = torch.randn(24, 8, generator=generator)
    sparse = model_class(d=8, n_latents=32, k=3, seed=1)
    with torch.no_grad():
        sparse.encoder_bias.normal_(0, 0.5, generator=generator)
        sparse.pre_bias.normal_(0, 0.5, generator=generator)
    dense = model_class(d=8, n_latents=32, k=3, seed=1)
    dense.load_state_dict(sparse.state_dict())

    codes, x_hat = sparse(x)
    dense_codes = dense.activate(dense.pre_activations(x))
    dense_x_hat = dense.decode(dense_codes)
    assert torch.allclose(codes, dense_codes, atol=1e-6)
    assert torch.allclose(x_hat, dense_x_hat, atol=1e-5)
    ((x_hat - target) ** 2).sum().add(codes.square().sum()).backward()
    ((dense_x_hat - target) ** 2).sum().add(dense_codes.square().sum()).backward()
    for (name, p_sparse), p_dense in zip(sparse.named_parameters(), dense.parameters(),
                                         strict=True):
        assert p_sparse.grad is not None, name
        assert torch.allclose(p_sparse.grad, p_dense.grad, atol=1e-4), name


def test_alignment_penalty_by_hand():
    image = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    text = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    assert alignment_penalty(image, text).item() == pytest.approx(-(1 + 1 / math.sqrt(2)) / 2)
    assert alignment_penalty(image, image).item() == pytest.approx(-1.0)


def test_alignment_penalty_zero_top1_variant():
    image = torch.tensor([[3.0, 1.0, 0.0]])
    text = torch.tensor([[0.0, 2.0, 5.0]])
    image_zeroed, text_zeroed = zero_top1(image, text)  # positions 0 and 2 zeroed in both
    assert image_zeroed.tolist() == [[0.0, 1.0, 0.0]]
    assert text_zeroed.tolist() == [[0.0, 2.0, 0.0]]
    assert alignment_penalty(image, text, "zero_top1").item() == pytest.approx(-1.0)
    assert alignment_penalty(image, text).item() == pytest.approx(
        -2 / (math.sqrt(10) * math.sqrt(29))
    )
    with pytest.raises(ValueError, match="paper"):
        alignment_penalty(image, text, "other")


def test_zero_top1_zeroes_both_top1_positions_in_both_codes():
    image = torch.tensor([[3.0, 1.0, 0.0, 2.0]])  # top-1 at 0
    text = torch.tensor([[0.0, 1.0, 4.0, 2.0]])  # top-1 at 2
    image_zeroed, text_zeroed = zero_top1(image, text)
    assert image_zeroed.tolist() == [[0.0, 1.0, 0.0, 2.0]]
    assert text_zeroed.tolist() == [[0.0, 1.0, 0.0, 2.0]]
    assert alignment_penalty(image, text, "zero_top1").item() == pytest.approx(-1.0)


def test_zero_top1_uses_the_largest_magnitude():
    image = torch.tensor([[-5.0, 1.0, 0.0, 2.0]])  # top-1 |z| at 0
    text = torch.tensor([[0.0, 1.0, 0.0, -3.0]])  # top-1 |z| at 3
    image_zeroed, text_zeroed = zero_top1(image, text)
    assert image_zeroed.tolist() == [[0.0, 1.0, 0.0, 0.0]]
    assert text_zeroed.tolist() == [[0.0, 1.0, 0.0, 0.0]]


def test_zero_top1_when_the_pair_shares_its_top1_atom():
    image = torch.tensor([[1.0, 4.0, 2.0]])
    text = torch.tensor([[2.0, 3.0, 0.0]])  # both top-1 at 1: only position 1 is zeroed
    image_zeroed, text_zeroed = zero_top1(image, text)
    assert image_zeroed.tolist() == [[1.0, 0.0, 2.0]]
    assert text_zeroed.tolist() == [[2.0, 0.0, 0.0]]
    # cos((1, 0, 2), (2, 0, 0)) = 2 / (√5 · 2)
    assert alignment_penalty(image, text, "zero_top1").item() == pytest.approx(-1 / math.sqrt(5))


def test_zero_top1_batch_of_two_pairs_by_hand():
    image = torch.tensor([[3.0, 1.0, 0.0, 2.0],    # pair 0: top-1 at 0
                          [0.0, 2.0, 1.0, 5.0]])   # pair 1: top-1 at 3
    text = torch.tensor([[0.0, 1.0, 4.0, 2.0],     # pair 0: top-1 at 2
                         [1.0, 6.0, 1.0, 0.0]])    # pair 1: top-1 at 1
    image_zeroed, text_zeroed = zero_top1(image, text)
    assert image_zeroed.tolist() == [[0.0, 1.0, 0.0, 2.0], [0.0, 0.0, 1.0, 0.0]]
    assert text_zeroed.tolist() == [[0.0, 1.0, 0.0, 2.0], [1.0, 0.0, 1.0, 0.0]]
    # pair 0: cos 1; pair 1: cos((0, 0, 1, 0), (1, 0, 1, 0)) = 1 / √2
    assert alignment_penalty(image, text, "zero_top1").item() == pytest.approx(
        -(1 + 1 / math.sqrt(2)) / 2)


def test_zero_top1_gives_no_gradient_to_the_zeroed_positions():
    image = torch.tensor([[3.0, 1.0, 0.5, 2.0]], requires_grad=True)
    text = torch.tensor([[0.5, 1.0, 4.0, 3.0]], requires_grad=True)
    alignment_penalty(image, text, "zero_top1").backward()
    for codes in (image, text):
        assert codes.grad[0, [0, 2]].tolist() == [0.0, 0.0]
        assert codes.grad[0, [1, 3]].abs().sum() > 0


def test_topk_keeps_exactly_k_per_sample():
    model = TopKSAE(d=8, n_latents=32, k=3, seed=0)
    codes = model.encode(torch.randn(10, 8))
    assert ((codes != 0).sum(1) <= 3).all() and (codes >= 0).all()
    with pytest.raises(ValueError, match="k = 40"):
        TopKSAE(d=8, n_latents=32, k=40)


def test_batchtopk_mean_l0_is_k_in_training_and_threshold_is_used_after():
    model = BatchTopKSAE(d=8, n_latents=32, k=4, seed=0)
    x = torch.randn(64, 8) + 2.0
    codes = model.encode(x)
    assert (codes != 0).sum().item() == 4 * 64
    assert model.threshold.item() > 0
    model.eval()
    inference = model.encode(x)
    assert torch.equal(inference != 0, model.pre_activations(x).relu() > model.threshold)


def test_jumprelu_threshold_receives_a_gradient():
    model = JumpReLUSAE(d=8, n_latents=16, initial_threshold=0.1, bandwidth=0.5, seed=0)
    x = torch.randn(256, 8)
    codes = model.encode(x)
    loss = (model.decode(codes) - x).pow(2).sum(-1).mean() + model.auxiliary_loss(x, codes)
    loss.backward()
    assert model.log_threshold.grad is not None
    assert model.log_threshold.grad.abs().sum() > 0


def test_jumprelu_l0_gradient_reaches_only_the_threshold():
    """λ·mean_b Σ_k H(u_bk − θ_k): ∂/∂θ_k = −(λ/(bε)) #{b : |u_bk − θ_k| < ε/2}, times θ_k for
    log θ; the encoder gets nothing from this term."""
    model = JumpReLUSAE(d=1, n_latents=2, l0_coefficient=0.5, initial_threshold=0.1,
                        bandwidth=0.2, pre_bias_init="zero", seed=0)
    with torch.no_grad():
        model.encoder_weight.copy_(torch.tensor([[1.0], [2.0]]))
        model.pre_bias.zero_()
    x = torch.tensor([[0.05], [0.15], [0.5], [-1.0]])   # u = x for latent 0, 2x for latent 1
    model.auxiliary_loss(x, model.encode(x)).backward()
    assert model.encoder_weight.grad is None and model.encoder_bias.grad is None
    # latent 0: u = 0.05, 0.15 lie within 0.1 of θ = 0.1 → 2 rows; latent 1: u = 0.1, 0.3 → 1 row
    expected = -(0.5 / (4 * 0.2)) * torch.tensor([2.0, 1.0]) * 0.1
    assert torch.allclose(model.log_threshold.grad, expected)


def test_ncl_features_are_non_negative():
    model = MultimodalNCL(d=8, n_latents=8, seed=0)
    assert (model.encode(torch.randn(20, 8)) >= 0).all()
    image, text = torch.rand(5, 8), torch.rand(5, 8)
    logits = image @ text.T
    expected = torch.nn.functional.cross_entropy(logits, torch.arange(5))
    assert model.contrastive_loss(image, text).item() == pytest.approx(expected.item())


def test_identity_is_the_encoders_own_basis():
    model = IdentityDictionary(d=4)
    x = torch.randn(3, 4)
    assert torch.equal(model.encode(x), x) and torch.equal(model.decode(x), x)
    assert torch.equal(model.dictionary, torch.eye(4))


@pytest.mark.parametrize("batch_size", [1, 4096])
def test_code_statistics_and_energy_shares_by_hand(batch_size):
    # identity dictionary: codes are the embeddings themselves, reconstruction is exact
    image = np.array([[1.0, 0.0], [3.0, 0.0]], dtype=np.float32)
    text = np.array([[0.0, 2.0], [1.0, 0.0]], dtype=np.float32)
    stats = code_statistics(IdentityDictionary(2), image, text, batch_size=batch_size)
    assert np.allclose(stats.image_energy, [5.0, 0.0])      # (1 + 9)/2, 0
    assert np.allclose(stats.text_energy, [0.5, 2.0])       # (0 + 1)/2, (4 + 0)/2
    assert np.allclose(stats.image_frequency, [1.0, 0.0])
    assert np.allclose(stats.text_frequency, [0.5, 0.5])
    assert stats.mse == pytest.approx(0.0) and stats.r2 == pytest.approx(1.0)
    # μ = (5/5.5, 0): latent 0 is bimodal (0.91 ≤ 0.95), latent 1 text-only;
    # E = ((5 + 0.5)/2, (0 + 2)/2) = (2.75, 1) → bimodal share 2.75 / 3.75; nothing fires ≥ 99 %
    shares = energy_shares(stats)
    assert shares["bimodal_energy_share"] == pytest.approx(2.75 / 3.75)
    assert shares["degenerate_energy_share"] == 0.0


def test_code_cache_replays_the_first_pass_and_gives_up_on_dense_codes():
    generator = torch.Generator().manual_seed(0)
    image, text = (torch.randn(50, 8, generator=generator).numpy() for _ in range(2))
    model = build_dictionary({"architecture": "topk", "expansion": 8, "k": 2}, 8, seed=0)
    cache = CodeCache()
    first = [codes for _, _, *codes in paired_codes(model, image, text, 16, cache)]
    assert cache.complete and len(cache.batches) == 4   # 2 of 64 latents: sparse enough
    model.encode = None  # a replay must not encode again
    second = [codes for _, _, *codes in paired_codes(model, image, text, 16, cache)]
    for before, after in zip(first, second, strict=True):
        assert all(torch.equal(b, a) for b, a in zip(before, after, strict=True))
    dense = build_dictionary({"architecture": "topk", "expansion": 1, "k": 4}, 8, seed=0)
    cache = CodeCache()
    list(paired_codes(dense, image, text, 16, cache))   # 4 of 8 non-zero > 1/16
    assert not cache.complete and cache.batches == []


def test_training_pairs_and_settings_take_the_dictionary_block_first():
    defaults = {"epochs": 5, "batch_size": 512, "lr": 5e-4, "pairs": 20000}
    assert training_pairs(defaults, {"architecture": "mp"}) == 20000
    assert training_pairs(defaults, {"architecture": "mp", "pairs": 500}) == 500
    assert training_pairs({"epochs": 5}, {"architecture": "mp"}) is None
    settings = training_settings(defaults, {"epochs": 3}, beta=0.1, seed=7, device="cpu")
    assert (settings.epochs, settings.batch_size, settings.beta, settings.seed) == (3, 512, 0.1, 7)


def test_beta_rule_on_a_hand_made_sweep():
    sweep = pd.DataFrame(
        {"beta": [0, 1e-5, 1e-4, 1e-3, 1e-2], "r2": [0.86, 0.86, 0.84, 0.80, 0.40]}
    )
    # within 0.05 of 0.86 means r2 ≥ 0.81: β = 1e-4 (0.84) passes, 1e-3 (0.80) does not
    assert select_beta(sweep) == 1e-4
    assert select_beta(sweep, tolerance=0.1) == 1e-3
    with pytest.raises(ValueError, match="β = 0"):
        select_beta(sweep[sweep["beta"] > 0])


def test_beta_grid_is_log_spaced_with_zero_first():
    grid = beta_grid(1e-6, 1e-1)
    assert grid[0] == 0 and len(grid) == 7
    assert grid[1] == pytest.approx(1e-6) and grid[-1] == pytest.approx(1e-1)


def test_r2_is_one_for_perfect_and_zero_for_the_mean():
    x = torch.randn(50, 4)
    mean = x.mean(0)
    assert per_instance_r2(x, x, mean).item() == pytest.approx(1.0)
    assert per_instance_r2(x, mean.expand_as(x), mean).item() == pytest.approx(0.0, abs=1e-6)


def _planted(n=6000, d=64, n_atoms=48, sparsity=5, seed=0):
    """Unit-norm data from a known unit-norm dictionary with 5-sparse positive codes."""
    rng = np.random.default_rng(seed)
    atoms = rng.normal(size=(n_atoms, d))
    atoms /= np.linalg.norm(atoms, axis=1, keepdims=True)
    codes = np.zeros((n, n_atoms))
    for row in range(n):
        chosen = rng.choice(n_atoms, size=sparsity, replace=False)
        codes[row, chosen] = rng.uniform(0.5, 1.5, size=sparsity)
    x = codes @ atoms
    return x.astype(np.float32), atoms


def _recovered(learned: np.ndarray, truth: np.ndarray, cosine: float = 0.95) -> float:
    learned = learned / np.linalg.norm(learned, axis=1, keepdims=True)
    return float(((truth @ learned.T).max(1) >= cosine).mean())


@pytest.mark.parametrize("architecture, k", [("topk", 5), ("mp", 8)])
def test_planted_dictionary_is_recovered(architecture, k):
    """5-sparse codes on 48 unit atoms in d = 64. Matching Pursuit is greedy: even with the true
    dictionary, 5 steps leave R² ≈ 0.975 on this data and 8 steps ≈ 0.998, so MP gets κ = 8.
    The data are not centred (positive codes), so the pre-bias starts at zero; MP runs as the
    authors train it (random xavier atoms, max selection, no pre-bias) and its codes are ≥ 0."""
    x, atoms = _planted()
    half = len(x) // 2
    spec = ({"architecture": "mp", "expansion": 2, "k": k} if architecture == "mp" else
            {"architecture": architecture, "expansion": 2, "k": k, "pre_bias_init": "zero"})
    model = build_dictionary(spec, d=64, seed=0)
    train_dictionary(
        model, x[:half], x[half:], DictionaryTraining(epochs=60, batch_size=64, lr=3e-3, seed=0)
    )
    with torch.no_grad():
        x_t = torch.from_numpy(x)
        r2 = per_instance_r2(x_t, model(x_t)[1], x_t.mean(0)).item()
    assert r2 >= 0.99
    assert _recovered(model.dictionary.detach().numpy(), atoms) >= 0.9
    if architecture == "mp":
        assert model.atom_init == "xavier" and model.selection == "max"
        assert (model.encode(torch.from_numpy(x)) >= 0).all()


def test_retraining_with_the_same_seed_gives_identical_weights():
    x, _ = _planted(n=512)
    weights = []
    for _ in range(2):
        model = build_dictionary({"architecture": "mp", "expansion": 2, "k": 4}, d=64, seed=3)
        train_dictionary(
            model, x[:256], x[256:], DictionaryTraining(epochs=2, batch_size=64, seed=3)
        )
        weights.append(model.state_dict())
    for name in weights[0]:
        assert torch.equal(weights[0][name], weights[1][name]), name


def test_log_has_the_promised_columns():
    x, _ = _planted(n=512)
    model = build_dictionary({"architecture": "topk", "expansion": 2, "k": 4}, d=64)
    log = train_dictionary(
        model, x[:256], x[256:], DictionaryTraining(epochs=1, batch_size=64, beta=1e-3)
    )
    for column in ("step", "loss", "mse", "r2", "l0", "align", "active_image", "active_text"):
        assert column in log
    assert len(log) == 4 and (log["l0"] <= 4).all()


def test_bad_inputs_are_one_line_errors():
    x, _ = _planted(n=128)
    model = build_dictionary({"architecture": "topk", "expansion": 2, "k": 4}, d=64)
    with pytest.raises(ValueError, match="dimension d = 64"):
        train_dictionary(model, x[:64, :10], x[64:, :10], DictionaryTraining())
    with pytest.raises(ValueError, match="beta"):
        DictionaryTraining(beta=-1.0)
    with pytest.raises(ValueError, match="unknown dictionary architecture"):
        build_dictionary({"architecture": "nope"}, d=64)


def test_nan_loss_stops_with_the_step_and_keeps_the_last_good_state():
    x, _ = _planted(n=256)
    model = build_dictionary({"architecture": "topk", "expansion": 2, "k": 4}, d=64)
    calls = []

    def auxiliary_loss(x, codes):  # finite for two steps, then NaN
        calls.append(1)
        return torch.tensor(float("nan") if len(calls) > 2 else 0.0)

    model.auxiliary_loss = auxiliary_loss
    with pytest.raises(TrainingDiverged, match="step 2") as info:
        train_dictionary(model, x[:128], x[128:], DictionaryTraining(epochs=1, batch_size=32))
    state = info.value.last_good_state
    assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())


def test_saved_dictionary_refuses_embeddings_of_another_dimension(tmp_path):
    from crossmodal.dictionaries.checkpoint import load_dictionary, save_dictionary
    from crossmodal.store import ArtifactError

    spec = {"architecture": "topk", "expansion": 2, "k": 4}
    model = build_dictionary(spec, d=16)
    save_dictionary(tmp_path / "model.pt", model, spec, {"beta": 0.0})
    loaded, facts = load_dictionary(tmp_path / "model.pt", expected_d=16)
    assert facts["beta"] == 0.0 and loaded.n_latents == 32
    for name, value in model.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[name])
    with pytest.raises(ArtifactError, match="d = 16 but the embeddings have d = 24"):
        load_dictionary(tmp_path / "model.pt", expected_d=24)
