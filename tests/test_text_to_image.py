"""Paper A case study 3: the interpolation, the toy decoder, the attribute classifier, the control
measures, the figure, and the Stable unCLIP path on tiny offline components."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from crossmodal.case_studies.decoder import (
    DecoderSettings,
    EmbeddingDecoder,
    coarse_loss,
    diffusion_loss,
    load_decoder,
    noise_scheduler,
    sample,
    save_decoder,
    to_uint8,
    train_decoder,
)
from crossmodal.case_studies.text_to_image import (
    ALL_DIMENSIONS,
    WEIGHT_LABEL,
    at_norm,
    classify_grid,
    control_embeddings,
    control_grid,
    control_measures,
    control_sets,
    decode_embedding_grid,
    decoder_gates,
    decoder_generator,
    embedding_follow,
    grid_records,
    group_sets,
    interpolate_on_group,
    pipeline_embedding_norm,
    plot_control_grid,
    random_matched_set,
    set_embeddings,
    set_grid,
    unclip_control_study,
    unclip_generate,
    unclip_generator,
    unit_mean_half_widths,
)
from crossmodal.image_expert import (
    accuracy,
    load_expert,
    predict,
    save_expert,
    train_image_expert,
)

TINY = DecoderSettings(image_size=16, block_out_channels=(8, 16), attention_levels=(False, True),
                       attention_head_dim=8, batch_size=4, max_steps=3, warmup_steps=1,
                       coarse_width=8, coarse_steps=2, coarse_batch_size=4, log_every=1,
                       time_budget_s=60.0)


# ---------------------------------------------------------------- interpolation


def test_interpolation_endpoints_are_exact():
    rng = np.random.default_rng(0)
    prompt, reference = rng.normal(size=12).astype(np.float32), rng.normal(size=12)
    latents = np.zeros(12, dtype=bool)
    latents[[1, 4, 7]] = True
    assert np.array_equal(interpolate_on_group(prompt, reference, latents, 0.0), prompt)
    at_one = interpolate_on_group(prompt, reference.astype(np.float32), latents, 1.0)
    assert np.array_equal(at_one[latents], reference.astype(np.float32)[latents])
    assert np.array_equal(at_one[~latents], prompt[~latents])


def test_interpolation_hand_case_and_index_form():
    prompt, reference = np.array([1.0, 2.0, 3.0]), np.array([5.0, 6.0, 7.0])
    mixed = interpolate_on_group(prompt, reference, np.array([0, 2]), 0.25)
    assert np.allclose(mixed, [2.0, 2.0, 4.0])  # 0.75·T + 0.25·R on {0, 2}, T elsewhere


def test_control_embeddings_rows_are_groups():
    prompt, reference = np.zeros(4), np.ones(4)
    groups = np.array(["TextD", "ImgD", "CrossD", "dead"], dtype=object)
    grid = control_embeddings(prompt, reference, groups, ("TextD", "ImgD"), (0.0, 0.5))
    assert grid.shape == (2, 2, 4)
    assert np.array_equal(grid[0, 1], [0.5, 0, 0, 0])
    assert np.array_equal(grid[1, 1], [0, 0.5, 0, 0])
    assert not grid[:, 0].any()


# ---------------------------------------------------------------- controls: random and all


def test_random_matched_set_has_the_group_size_and_is_seeded():
    chosen = random_matched_set(20, 6, seed=3)
    assert len(chosen) == 6 == len(np.unique(chosen))
    assert chosen.min() >= 0 and chosen.max() < 20 and np.all(np.diff(chosen) > 0)
    assert np.array_equal(chosen, random_matched_set(20, 6, seed=3))  # same seed, same set
    assert not np.array_equal(chosen, random_matched_set(20, 6, seed=4))
    assert len(random_matched_set(20, 0, seed=3)) == 0
    with pytest.raises(ValueError, match="outside"):
        random_matched_set(5, 6, seed=0)


def test_control_sets_match_each_group_size_and_end_with_all():
    groups = np.array(["TextD"] * 3 + ["CrossD"] * 5 + ["ImgD"] * 2 + ["dead"] * 2)
    sets = control_sets(groups, ("TextD", "CrossD", "ImgD"), seed=0)
    assert list(sets) == ["random_TextD", "random_CrossD", "random_ImgD", ALL_DIMENSIONS]
    sizes = {name: len(indices) for name, indices in group_sets(groups).items()}
    assert {name: len(sets[f"random_{name}"]) for name in sizes} == sizes == {
        "TextD": 3, "CrossD": 5, "ImgD": 2}
    assert np.array_equal(sets[ALL_DIMENSIONS], np.arange(12))
    again = control_sets(groups, ("TextD", "CrossD", "ImgD"), seed=0)
    assert all(np.array_equal(sets[name], again[name]) for name in sets)
    other = control_sets(groups, ("TextD", "CrossD", "ImgD"), seed=1)
    assert not np.array_equal(sets["random_CrossD"], other["random_CrossD"])


def test_an_empty_group_is_skipped_with_a_logged_line(caplog):
    groups = np.array(["TextD", "TextD", "CrossD", "dead"])
    with caplog.at_level("WARNING"):
        sets = control_sets(groups, ("TextD", "CrossD", "ImgD"), seed=0)
    assert list(sets) == ["random_TextD", "random_CrossD", ALL_DIMENSIONS]
    assert "group ImgD has no dimensions; skipped" in caplog.text


def test_all_dimensions_row_is_the_plain_mixture():
    prompt, reference = np.array([1.0, -2.0, 4.0]), np.array([3.0, 2.0, 0.0])
    sets = {ALL_DIMENSIONS: np.arange(3)}
    rows = set_embeddings(prompt, reference, sets, (0.0, 0.25, 1.0))
    assert rows.shape == (1, 3, 3)
    # (1 − w)·T + w·R on every dimension: w = 0.25 → [1.5, −1.0, 3.0]
    np.testing.assert_allclose(rows[0], [[1.0, -2.0, 4.0], [1.5, -1.0, 3.0], [3.0, 2.0, 0.0]])


def test_set_grid_rows_follow_the_sets_and_the_measures_carry_sizes():
    def generate(embeddings, seeds):  # image brightness = mean of the embedding
        return np.stack([np.full((4, 4, 3), 100 * row.mean(), np.uint8) for row in embeddings])

    sets = {"TextD": np.array([0]), "random_TextD": np.array([2]), ALL_DIMENSIONS: np.arange(3)}
    grid = set_grid(generate, np.zeros(3), np.full(3, 1.5), sets, weights=(0.0, 1.0),
                    seeds=(0, 1))
    assert grid.shape == (3, 2, 2, 4, 4, 3)
    assert not grid[:, 0].any()  # w = 0: the prompt (all zeros) in every row
    # w = 1: one of three dimensions at 1.5 → mean 0.5 → 50; all three → 150
    assert grid[0, 1, 0, 0, 0, 0] == grid[1, 1, 1, 0, 0, 0] == 50
    assert grid[2, 1, 0, 0, 0, 0] == 150
    predictions = {"shape": np.array([[["star"] * 2] * 2] * 3, dtype=object)}
    records = grid_records(predictions, {"shape": "star"}, list(sets), (0.0, 1.0))
    measures = control_measures(records, ("shape",), sizes={n: len(i) for n, i in sets.items()})
    assert measures["group"].tolist() == ["TextD"] * 2 + ["random_TextD"] * 2 + ["all"] * 2
    assert measures["n_dimensions"].tolist() == [1, 1, 1, 1, 3, 3]
    with pytest.raises(ValueError, match="no dimension sets"):
        set_grid(generate, np.zeros(3), np.ones(3), {}, seeds=(0,))


# ---------------------------------------------------------------- decoder


@pytest.fixture(scope="module")
def tiny_decoder():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(10, 20, 20, 3), dtype=np.uint8)
    embeddings = rng.normal(size=(10, 6)).astype(np.float32)
    model, log = train_decoder(images, embeddings, TINY, seed=0)
    return model, log, embeddings


def test_decoder_trains_and_logs(tiny_decoder):
    _, log, _ = tiny_decoder
    assert list(log["stage"]) == ["coarse"] * 2 + ["diffusion"] * 3
    assert list(log["step"]) == [1, 2, 1, 2, 3]
    assert np.isfinite(log["loss"]).all() and log["seconds"].is_monotonic_increasing


def test_sample_shape_dtype_and_determinism(tiny_decoder):
    model, _, embeddings = tiny_decoder
    first = sample(model, embeddings[:3], seed=7, steps=3, guidance=2.0)
    again = sample(model, embeddings[:3], seed=7, steps=3, guidance=2.0)
    assert first.shape == (3, 16, 16, 3) and first.dtype == np.uint8
    assert np.array_equal(first, again)
    other = sample(model, embeddings[:3], seed=8, steps=3, guidance=2.0)
    assert not np.array_equal(first, other)


def test_save_load_round_trip(tiny_decoder, tmp_path):
    model, _, embeddings = tiny_decoder
    path = tmp_path / "decoder.pt"
    save_decoder(path, model, {"seed": 0})
    loaded, facts = load_decoder(path)
    assert facts["seed"] == 0 and loaded.settings == TINY
    assert np.array_equal(sample(loaded, embeddings[:2], seed=1, steps=2),
                          sample(model, embeddings[:2], seed=1, steps=2))
    assert not list(tmp_path.glob("*.tmp-*"))


def test_decoder_refuses_mismatched_inputs():
    with pytest.raises(ValueError, match="embeddings"):
        train_decoder(np.zeros((3, 8, 8, 3), np.uint8), np.zeros((2, 4)), TINY)
    with pytest.raises(ValueError, match="NaN"):
        train_decoder(np.zeros((2, 8, 8, 3), np.uint8), np.full((2, 4), np.nan), TINY)


def test_decoder_standardises_per_dimension_over_all_views():
    """(V, N, d) conditions (e.g. image and caption embeddings); the standardisation is
    fitted on all of them, per dimension: view 0 = (0, 0), view 1 = (1, 3) → μ = (0.5, 1.5),
    σ = (0.5, 1.5), so ẽ of (1, 3) is (1, 1)."""
    settings = replace(TINY, max_steps=1, coarse_steps=1)
    views = np.stack([np.zeros((4, 2)), np.tile([1.0, 3.0], (4, 1))]).astype(np.float32)
    model, log = train_decoder(np.zeros((4, 8, 8, 3), np.uint8), views, settings)
    assert len(log) == 2
    assert torch.allclose(model.embedding_mean, torch.tensor([0.5, 1.5]))
    assert torch.allclose(model.embedding_scale, torch.tensor([0.5, 1.5]))
    assert torch.allclose(model.standardise(torch.tensor([[1.0, 3.0]])), torch.ones(1, 2))


def constant_coarse_image(model: EmbeddingDecoder, value: float) -> None:
    """Make C(ẽ) = ``value`` everywhere: zero the last conv's weights, set its bias."""
    with torch.no_grad():
        model.coarse.to_image.weight.zero_()
        model.coarse.to_image.bias.fill_(value)


def test_coarse_loss_by_hand():
    """C(ẽ) = 0.5 everywhere against images of constant pixel value 255 (→ +1 in [-1, 1]):
    the coarse loss is (0.5 − 1)² = 0.25."""
    model = EmbeddingDecoder(2, TINY)
    constant_coarse_image(model, 0.5)
    clean = torch.ones(3, 3, 16, 16)
    assert torch.isclose(coarse_loss(model, clean, torch.zeros(3, 2)), torch.tensor(0.25))


def test_settings_refuse_bad_sizes_and_step_counts():
    with pytest.raises(ValueError, match="multiple of 8"):
        replace(TINY, image_size=20)
    with pytest.raises(ValueError, match="coarse_steps"):
        replace(TINY, coarse_steps=-1)


def test_diffusion_loss_is_the_residual_error_by_hand():
    """w = 1 (γ = None) and a UNet that predicts r̂ = 0: the loss is mean r² for the residual
    r = x0 − C(ẽ). C = 0.25 against x0 = 0.75 gives r = 0.5 → 0.25; against x0 = C, 0."""
    model = EmbeddingDecoder(2, replace(TINY, snr_gamma=None, condition_dropout=0.0))
    constant_coarse_image(model, 0.25)
    with torch.no_grad():
        model.unet.conv_out.weight.zero_()
        model.unet.conv_out.bias.zero_()
    scheduler = noise_scheduler(model.settings)
    embeddings = torch.randn(4, 2)

    def loss(pixel_value):
        clean = torch.full((4, 3, 16, 16), pixel_value)
        return diffusion_loss(model, scheduler, clean, embeddings, torch.Generator().manual_seed(3))

    with torch.no_grad():
        assert torch.isclose(loss(0.75), torch.tensor(0.25))
        assert loss(0.25).abs() < 1e-12


def test_a_zero_residual_decodes_to_the_coarse_image():
    """With r̂ ≡ 0 the DDIM residual shrinks to √(1 − ᾱ_0)·ε ≈ 0.0063·ε (|ε| < 5), so every sample
    is the coarse image up to 0.0063·5·127.5 + ½ < 5 uint8 levels, under one on average, whatever
    the seed."""
    model = EmbeddingDecoder(2, TINY).eval()
    with torch.no_grad():
        model.unet.conv_out.weight.zero_()
        model.unet.conv_out.bias.zero_()
    embeddings = torch.randn(3, 2)
    with torch.no_grad():
        coarse = to_uint8(model.coarse_image(embeddings).clamp(-1, 1)).astype(int)
    for seed in (0, 5):
        decoded = sample(model, embeddings, seed=seed, steps=5, guidance=2.0).astype(int)
        assert np.abs(decoded - coarse).max() < 5 and np.abs(decoded - coarse).mean() < 1


# ---------------------------------------------------------------- classifier


def separable_images(n: int, seed: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Bright-left vs bright-right halves (head "side") and red vs blue tint (head "hue")."""
    rng = np.random.default_rng(seed)
    side, hue = rng.integers(0, 2, n), rng.integers(0, 2, n)
    images = rng.integers(0, 40, size=(n, 16, 16, 3)).astype(np.uint8)
    for i in range(n):
        columns = slice(0, 8) if side[i] == 0 else slice(8, 16)
        images[i, :, columns, 0 if hue[i] == 0 else 2] = 230
    labels = {"side": np.where(side == 0, "left", "right"), "hue": np.where(hue == 0, "r", "b")}
    return images, labels


def test_classifier_learns_separable_task(tmp_path):
    images, labels = separable_images(160, seed=0)
    model = train_image_expert(images, labels, seed=0, epochs=4, batch_size=32, image_size=16,
                               width=8)
    test_images, test_labels = separable_images(60, seed=1)
    predictions = predict(model, test_images)
    scores = accuracy(predictions, test_labels)
    assert scores["side"] >= 0.95 and scores["hue"] >= 0.95
    save_expert(tmp_path / "judge.pt", model, {"epochs": 4})
    loaded, facts = load_expert(tmp_path / "judge.pt")
    assert facts["epochs"] == 4 and loaded.classes == model.classes
    assert all(np.array_equal(predict(loaded, test_images)[h], predictions[h]) for h in labels)


# ---------------------------------------------------------------- measures and figure


def test_control_measures_on_hand_made_predictions():
    predictions = {"shape": np.array([[["star", "circle"], ["star", "star"]]]),
                   "colour": np.array([[["red", "red"], ["blue", "red"]]])}
    records = grid_records(predictions, {"shape": "star", "colour": "blue"}, ("ImgD",),
                           (0.0, 0.5), prompt={"shape": "circle", "colour": "red"})
    measures = control_measures(records, attributes=("shape", "colour"))
    expected = pd.DataFrame({"group": ["ImgD", "ImgD"], "w": [0.0, 0.5],
                             "share_shape_match": [0.5, 1.0],
                             "share_shape_prompt_match": [0.5, 0.0],
                             "share_colour_match": [0.0, 0.5],
                             "share_colour_prompt_match": [1.0, 0.5], "n_images": [2, 2]})
    pd.testing.assert_frame_equal(measures[list(expected.columns)], expected, check_dtype=False)
    # each share is followed by its half-width; over the two images (seeds) of a cell, a share
    # that is the same for both has half-width 0, and {0, 1} has resample means {0, ½, 1} with
    # chances ¼, ½, ¼: the 2.5 % / 97.5 % quantiles of 200 resamples are 0 and 1 → ½
    assert list(measures.columns[2:4]) == ["share_shape_match", "share_shape_match ±"]
    assert measures["share_shape_match ±"].tolist() == [0.5, 0.0]
    assert measures["share_colour_match ±"].tolist() == [0.0, 0.5]
    assert measures["share_colour_prompt_match ±"].tolist() == [0.0, 0.5]


def test_unit_mean_half_widths_by_hand():
    # measure 0: constant units → 0; measure 1: units {0, 1} → ½ (see above); one unit → NaN
    values = np.array([[[1.0, 0.0], [1.0, 0.0]], [[0.0, 1.0], [1.0, 1.0]]])  # (C=2, U=2, W=2)
    widths = unit_mean_half_widths(values, resamples=200, seed=3)
    np.testing.assert_allclose(widths, [[0.0, 0.0], [0.5, 0.0]])
    assert np.isnan(unit_mean_half_widths(values[:, :1], resamples=20)).all()
    # the same seed gives the same widths; the draw is shared by every measure and cell
    many = np.random.default_rng(0).random((3, 30, 4))
    np.testing.assert_array_equal(unit_mean_half_widths(many, 50, 1),
                                  unit_mean_half_widths(many, 50, 1))
    doubled = unit_mean_half_widths(np.concatenate([many, 2 * many]), 50, 1)
    np.testing.assert_allclose(doubled[3:], 2 * doubled[:3])


def test_grid_with_fake_generator_and_figure(tmp_path):
    def generate(embeddings, seeds):  # image brightness = first coordinate, noise by seed
        out = np.empty((len(embeddings), 8, 8, 3), dtype=np.uint8)
        for i, (row, seed) in enumerate(zip(embeddings, seeds)):
            out[i] = np.uint8(200 * row[0]) + np.random.default_rng(seed).integers(0, 5)
        return out

    groups = np.array(["TextD", "CrossD", "ImgD"])
    grid = control_grid(generate, np.zeros(3), np.ones(3), groups, weights=(0.0, 0.5),
                        seeds=(3, 4))
    assert grid.shape == (3, 2, 2, 8, 8, 3)
    assert grid[0, 1, 0, 0, 0, 0] > grid[0, 0, 0, 0, 0, 0]  # TextD holds coordinate 0
    assert np.array_equal(grid[1, 1], grid[1, 0])  # CrossD does not
    path = tmp_path / "grid.png"
    plot_control_grid(grid, path, weights=(0.0, 0.5), reference_image=grid[0, 0, 0])
    assert path.read_bytes()[:4] == b"\x89PNG"
    assert WEIGHT_LABEL == "w (weight on the reference)"


def test_equal_cells_of_a_grid_are_decoded_once_and_shared():
    calls = []

    def generate(embeddings, seeds):  # an "image" that records its embedding and seed
        calls.append(len(seeds))
        return np.stack([np.r_[e, s] for e, s in zip(embeddings, seeds, strict=True)])

    prompt, other = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    embeddings = np.stack([[prompt, other], [prompt, prompt]])  # (R=2, W=2, d=2)
    grid = decode_embedding_grid(generate, embeddings, seeds=(0, 1))
    assert calls == [4]  # 8 cells, 4 distinct (embedding, seed) pairs
    assert grid.shape == (2, 2, 2, 3)
    assert (grid[1, 1, 1] == [1.0, 0.0, 1.0]).all() and (grid[0, 1, 0] == [0.0, 1.0, 0.0]).all()
    assert (grid[0, 0] == grid[1, 0]).all() and (grid[1, 0] == grid[1, 1]).all()


def test_decoder_grid_end_to_end(tiny_decoder):
    model, _, embeddings = tiny_decoder
    groups = np.array(["TextD", "TextD", "CrossD", "CrossD", "ImgD", "dead"])
    generate = decoder_generator(model, steps=2, guidance=1.5)
    grid = control_grid(generate, embeddings[0], embeddings[1], groups, weights=(0.0, 0.3),
                        seeds=(0,))
    assert grid.shape == (3, 2, 1, 16, 16, 3)
    assert np.array_equal(grid[0, 0], grid[2, 0])  # w = 0 is the prompt in every row
    images, labels = separable_images(32, seed=2)
    judge = train_image_expert(images, labels, seed=0, epochs=1, image_size=16, width=8)
    predictions = classify_grid(judge, grid)
    assert predictions["side"].shape == (3, 2, 1)


# ---------------------------------------------------------------- Stable unCLIP, tiny and offline


def tiny_tokenizer(directory):
    """A CLIPTokenizer over single letters (no merges), written to ``directory``."""
    from transformers import CLIPTokenizer

    letters = "abcdefghijklmnopqrstuvwxyz"
    tokens = ["<|startoftext|>", "<|endoftext|>", *letters, *(c + "</w>" for c in letters)]
    (directory / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}))
    (directory / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(str(directory / "vocab.json"), str(directory / "merges.txt"),
                         model_max_length=16)


def tiny_unclip_pipeline(directory, dim: int = 16):
    """Stable unCLIP img2img from randomly initialised tiny components built from configs."""
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        DDPMScheduler,
        StableUnCLIPImg2ImgPipeline,
        UNet2DConditionModel,
    )
    from diffusers.pipelines.stable_diffusion.stable_unclip_image_normalizer import (
        StableUnCLIPImageNormalizer,
    )
    from transformers import (
        CLIPImageProcessor,
        CLIPTextConfig,
        CLIPTextModel,
        CLIPVisionConfig,
        CLIPVisionModelWithProjection,
    )

    tokenizer = tiny_tokenizer(directory)
    torch.manual_seed(0)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=len(tokenizer), hidden_size=dim, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, max_position_embeddings=16, projection_dim=dim,
        bos_token_id=0, eos_token_id=1, pad_token_id=1))
    image_encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=dim, projection_dim=dim, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, image_size=16, patch_size=8))
    unet = UNet2DConditionModel(
        sample_size=8, in_channels=4, out_channels=4, layers_per_block=1,
        block_out_channels=(16, 32), norm_num_groups=8, attention_head_dim=(2, 4),
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=dim,
        class_embed_type="projection", projection_class_embeddings_input_dim=2 * dim)
    vae = AutoencoderKL(block_out_channels=(8, 16), norm_num_groups=8, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D",) * 2,
                        up_block_types=("UpDecoderBlock2D",) * 2, sample_size=16)
    pipeline = StableUnCLIPImg2ImgPipeline(
        feature_extractor=CLIPImageProcessor(crop_size=16, size=16),
        image_encoder=image_encoder.eval(),
        image_normalizer=StableUnCLIPImageNormalizer(embedding_dim=dim).eval(),
        image_noising_scheduler=DDPMScheduler(beta_schedule="squaredcos_cap_v2"),
        tokenizer=tokenizer, text_encoder=text_encoder.eval(), unet=unet.eval(),
        scheduler=DDIMScheduler(prediction_type="v_prediction", set_alpha_to_one=False),
        vae=vae.eval())
    pipeline.set_progress_bar_config(disable=True)
    return pipeline


def test_tiny_unclip_path_runs(tmp_path):
    pipeline = tiny_unclip_pipeline(tmp_path)
    rng = np.random.default_rng(0)
    embeds = rng.normal(size=(2, 16)).astype(np.float32)
    images = unclip_generate(pipeline, embeds, seed=5, prompt="a red star", steps=2,
                             guidance=3.0)
    assert images.shape == (2, 16, 16, 3) and images.dtype == np.uint8
    again = unclip_generate(pipeline, embeds[1], seed=6, prompt="a red star", steps=2,
                            guidance=3.0)
    assert np.array_equal(again[0], images[1])  # row i is seeded seed + i
    groups = np.array(["TextD"] * 8 + ["ImgD"] * 8)
    grid = control_grid(unclip_generator(pipeline, "a red star", steps=2, guidance=3.0),
                        embeds[0], embeds[1], groups, ("TextD", "ImgD"), (0.0, 0.7), (0,))
    assert grid.shape == (2, 2, 1, 16, 16, 3)


def test_rows_are_rescaled_to_the_norm_by_hand():
    vectors = np.array([[3.0, 4.0], [0.0, 0.0], [0.0, -0.5]])
    np.testing.assert_allclose(at_norm(vectors, 10.0), [[6.0, 8.0], [0.0, 0.0], [0.0, -10.0]])
    np.testing.assert_allclose(at_norm(vectors[0], 1.0), [[0.6, 0.8]])


def _conditioning_reaching_the_unet(pipeline, embeds, **options) -> np.ndarray:
    """The image embedding part (B, d) of the ``class_labels`` the UNet receives for the
    conditional half of classifier-free guidance, at noise level 0."""
    captured = []

    def hook(module, args, kwargs):
        captured.append(kwargs["class_labels"].detach().clone())

    handle = pipeline.unet.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        unclip_generate(pipeline, embeds, seed=0, prompt="a red star", steps=1, guidance=3.0,
                        noise_level=0, **options)
    finally:
        handle.remove()
    dim = embeds.shape[1]
    # one call per row; its batch is (unconditional zeros, conditional) under guidance
    return np.stack([labels[-1, :dim].numpy() for labels in captured])


def test_the_fed_embedding_reaches_the_unet_at_the_normalizer_scale(tmp_path):
    pipeline = tiny_unclip_pipeline(tmp_path)
    with torch.no_grad():  # statistics of embeddings with mean 0.5 and std 2 per dimension
        pipeline.image_normalizer.mean.fill_(0.5)
        pipeline.image_normalizer.std.fill_(2.0)
    expected = np.sqrt(16 * 0.5 ** 2 + 16 * 2.0 ** 2)                   # √68 ≈ 8.25
    assert pipeline_embedding_norm(pipeline) == pytest.approx(expected)
    rng = np.random.default_rng(0)
    unit = rng.normal(size=(2, 16)).astype(np.float32)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)                # as our encoders give
    received = _conditioning_reaching_the_unet(pipeline, unit)
    # noise level 0 adds noise of std √β₀ ≈ 0.006 in standardised units: direction and scale kept
    np.testing.assert_allclose(np.linalg.norm(received, axis=1), expected, rtol=0.02)
    cosines = (received * unit).sum(1) / np.linalg.norm(received, axis=1)
    assert (cosines > 0.999).all()
    as_is = _conditioning_reaching_the_unet(pipeline, unit, embedding_norm=None)
    np.testing.assert_allclose(np.linalg.norm(as_is, axis=1), 1.0, rtol=0.05)
    fixed = _conditioning_reaching_the_unet(pipeline, unit, embedding_norm=3.0)
    np.testing.assert_allclose(np.linalg.norm(fixed, axis=1), 3.0, rtol=0.02)


def test_embedding_follow_by_hand():
    # one group, two weights, two seeds, d = 2: R = e1, T = e2
    generated = np.array([[[[1.0, 0.0], [0.0, 1.0]],      # w = 0: cos to R = (1 + 0) / 2
                           [[3.0, 0.0], [2.0, 0.0]]]])    # w = 0.5: both along R
    frame = embedding_follow(generated, np.array([0.0, 2.0]), np.array([5.0, 0.0]),
                             group_names=("TextD",), weights=(0.0, 0.5), reference_id=1)
    assert frame["w"].tolist() == [0.0, 0.5]
    np.testing.assert_allclose(frame["cos_reference"], [0.5, 1.0])
    np.testing.assert_allclose(frame["cos_prompt"], [0.5, 0.0])
    assert frame["n_images"].tolist() == [2, 2] and set(frame["reference_id"]) == {1}


def test_unclip_control_study_with_a_tiny_pipeline_and_encoder(tmp_path):
    """The real-model path of rule text_to_image_control: a 16-d toy CLIP as the encoder (its
    raw dimensions split into MDS groups) feeding a tiny random Stable unCLIP."""
    from PIL import Image

    from crossmodal.encoders.tokenizer import WordTokenizer
    from crossmodal.encoders.toy import ToyEncoder, save_checkpoint
    from crossmodal.encoders.toy_model import create_toy_clip, toy_model_config

    architecture = {"embed_dim": 16, "init_logit_scale": 100.0, "vision_layers": [1, 1, 1, 1],
                    "vision_width": 8, "vision_head_width": 8, "context_length": 8,
                    "text_width": 16, "text_heads": 2, "text_layers": 1}
    tokenizer = WordTokenizer(["draw", "an", "animal"], architecture["context_length"])
    config = toy_model_config(architecture, tokenizer.vocab_size, 32)
    model = create_toy_clip(config, tmp_path / "tiny.json", seed=0)
    save_checkpoint(tmp_path / "tiny.pt", "tiny", model, config, tokenizer, [0.5] * 3,
                    [0.25] * 3)
    encoder = ToyEncoder(tmp_path / "tiny.pt")
    pipeline = tiny_unclip_pipeline(tmp_path)
    references = [Image.new("RGB", (32, 32), colour) for colour in ("red", "blue")]
    groups = np.array(["TextD"] * 6 + ["CrossD"] * 4 + ["ImgD"] * 6)
    measures, grids = unclip_control_study(pipeline, encoder, "draw an animal", references,
                                           group_sets(groups), seeds=(0,), steps=2,
                                           guidance=3.0, weights=(0.0, 0.7))
    assert [grid.shape for grid in grids] == [(3, 2, 1, 16, 16, 3)] * 2
    assert len(measures) == 2 * 3 * 2 and set(measures["reference_id"]) == {0, 1}
    assert measures[["cos_reference", "cos_prompt"]].abs().le(1 + 1e-6).all().all()
    # w = 0 decodes the prompt alone: every group's w = 0 cell is the same image
    assert all(np.array_equal(grid[0, 0], grid[g, 0]) for grid in grids for g in (1, 2))


def test_missing_unclip_weights_are_one_line(tmp_path, monkeypatch):
    from crossmodal.case_studies.text_to_image import load_unclip_pipeline
    from crossmodal.encoders.base import MissingWeightsError

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    missing = str(tmp_path / "no-unclip-here")
    with pytest.raises(MissingWeightsError) as info:
        load_unclip_pipeline(missing, precision="fp16")
    message = str(info.value)
    assert missing in message and "\n" not in message


def test_the_decoder_gate_reads_the_colour_agreement_of_both_modalities():
    working = {"decoder_colour_agreement_image": 0.99, "decoder_colour_agreement_text": 0.96}
    assert decoder_gates(working, 0.9) == {"gate_colour_agreement_image": "pass",
                                           "gate_colour_agreement_text": "pass",
                                           "decoder_gate": "pass"}
    noise = {**working, "decoder_colour_agreement_image": 0.34}
    assert decoder_gates(noise, 0.9)["decoder_gate"] == "fail"
