"""The toy CLIP: built by open_clip from a registered config, trained, saved and reloaded."""

import numpy as np
import pytest
import torch

from crossmodal.encoders.tokenizer import WordTokenizer
from crossmodal.encoders.toy import ToyEncoder, save_checkpoint
from crossmodal.encoders.toy_model import create_toy_clip, toy_model_config
from crossmodal.encoders.toy_training import (
    TrainingConfig,
    cosine_schedule,
    parameter_groups,
    pixel_statistics,
    train_toy_clip,
)
from crossmodal.images import decode_to_array

ARCHITECTURE = {"embed_dim": 16, "init_logit_scale": 100.0, "vision_layers": [1, 1, 1, 1],
                "vision_width": 8, "vision_head_width": 8, "context_length": 24,
                "text_width": 16, "text_heads": 2, "text_layers": 1}


def _train(small_world, tmp_path, name, self_supervision=0.0, view_alignment=0.0):
    pairs, _ = small_world
    train = pairs[pairs["split"] == "train"]
    images = decode_to_array(list(train["image"]))
    captions = list(train["caption"])
    tokenizer = WordTokenizer.fit(captions, ARCHITECTURE["context_length"])
    config = toy_model_config(ARCHITECTURE, tokenizer.vocab_size, images.shape[1])
    model = create_toy_clip(config, tmp_path / f"toyworld-{name}.json", seed=7)
    mean, std = pixel_statistics(images)
    history = train_toy_clip(model, tokenizer, images, captions,
                             TrainingConfig(epochs=1, batch_size=64, warmup_steps=1,
                                            self_supervision=self_supervision,
                                            view_alignment=view_alignment, seed=7),
                             mean, std)
    save_checkpoint(tmp_path / f"{name}.pt", name, model, config, tokenizer, mean, std)
    return model, history


def test_training_logs_every_step_and_is_deterministic(small_world, tmp_path):
    torch.set_num_threads(1)
    model_a, history_a = _train(small_world, tmp_path, "a")
    model_b, history_b = _train(small_world, tmp_path, "b")
    assert len(history_a) == 300 // 64
    assert np.isfinite(history_a["loss"]).all()
    assert history_a["loss"].tolist() == history_b["loss"].tolist()
    for (name, p), q in zip(model_a.state_dict().items(), model_b.state_dict().values()):
        assert torch.equal(p, q), name


def test_self_supervision_adds_a_within_modality_loss(small_world, tmp_path):
    _, history = _train(small_world, tmp_path, "declip", self_supervision=1.0)
    assert (history["self_loss"] > 0).all()
    assert np.allclose(history["loss"], history["clip_loss"] + history["self_loss"], rtol=1e-5)


def test_view_alignment_adds_the_cross_modal_loss_of_the_views(small_world, tmp_path):
    """loss = clip + self_supervision · self + view_alignment · view, the view term matching
    each view to the other modality (DeCLIP's multi-view supervision)."""
    _, history = _train(small_world, tmp_path, "mvs", self_supervision=1.0, view_alignment=0.5)
    assert (history["view_loss"] > 0).all()
    assert np.allclose(history["loss"], history["clip_loss"] + history["self_loss"]
                       + 0.5 * history["view_loss"], rtol=1e-5)
    _, plain = _train(small_world, tmp_path, "plain")
    assert (plain["view_loss"] == 0).all() and (plain["self_loss"] == 0).all()


def test_checkpoint_reloads_to_the_same_embeddings(small_world, tmp_path):
    from crossmodal.images import decode_image

    model, _ = _train(small_world, tmp_path, "reload")
    encoder = ToyEncoder(tmp_path / "reload.pt")
    pairs, _ = small_world
    images = [decode_image(b) for b in pairs["image"].iloc[:4]]
    captions = list(pairs["caption"].iloc[:4])
    with torch.inference_mode():
        expected_text = model.encode_text(encoder.prepare_texts(captions))
        expected_image = model.encode_image(encoder.prepare_images(images))
    assert torch.allclose(encoder.encode_texts(captions), expected_text, atol=1e-6)
    assert torch.allclose(encoder.encode_images(images), expected_image, atol=1e-5)
    assert encoder.dim == 16 and encoder.describe()["dim"] == "16"
    # a real dataset's image of another size is resized to the tower's input, not refused
    larger = images[0].resize((2 * images[0].width, 2 * images[0].height))
    assert encoder.prepare_images([larger]).shape == encoder.prepare_images(images[:1]).shape


def test_missing_checkpoint_names_the_file_and_the_fix(tmp_path):
    from crossmodal.encoders import MissingWeightsError

    with pytest.raises(MissingWeightsError, match="snakemake"):
        ToyEncoder(tmp_path / "none.pt")


def test_cosine_schedule_warms_up_then_decays():
    assert cosine_schedule(0, 100, 10) == pytest.approx(0.1)
    assert cosine_schedule(9, 100, 10) == pytest.approx(1.0)
    assert cosine_schedule(10, 100, 10) == pytest.approx(1.0)
    assert cosine_schedule(55, 100, 10) == pytest.approx(0.5)
    assert cosine_schedule(100, 100, 10) == pytest.approx(0.0)


def test_pixel_statistics_by_hand():
    images = np.zeros((2, 1, 1, 3), dtype=np.uint8)
    images[1] = 255
    mean, std = pixel_statistics(images)
    assert mean == pytest.approx([0.5] * 3) and std == pytest.approx([0.5] * 3)


def test_the_text_tower_learns_at_its_own_rate(tmp_path):
    config = toy_model_config(ARCHITECTURE, vocab_size=20, image_size=32)
    model = create_toy_clip(config, tmp_path / "toyworld-groups.json", seed=0)
    groups = parameter_groups(model, TrainingConfig(lr=1e-3, text_lr_scale=0.01,
                                                    weight_decay=0.1))
    rate = {id(p): (g["lr"], g["weight_decay"]) for g in groups for p in g["params"]}
    named = dict(model.named_parameters())
    assert len(rate) == len(named)  # every parameter in exactly one group
    assert rate[id(named["token_embedding.weight"])] == (pytest.approx(1e-5), 0.1)
    assert rate[id(named["ln_final.bias"])] == (pytest.approx(1e-5), 0.0)
    assert rate[id(named["logit_scale"])] == (pytest.approx(1e-3), 0.0)
    visual = [name for name in named if name.startswith("visual.") and named[name].ndim >= 2]
    assert all(rate[id(named[name])] == (pytest.approx(1e-3), 0.1) for name in visual)
