"""The toyworld image expert: one CNN over every image-visible family, its h-embedding, its gate
and the config checks that say where it is needed."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from crossmodal.case_studies.decoder import to_unit_range as decoder_preprocessing
from crossmodal.config import reference_errors
from crossmodal.image_expert import (
    IMAGE_FAMILIES,
    embed,
    load_expert,
    majority_rate,
    predict,
    quality_gates,
    save_expert,
    to_unit_range,
    train_image_expert,
)
from crossmodal.images import decode_to_array
from crossmodal.monosemanticity.embedders import load_image_embedder

WIDTH = 8


@pytest.fixture(scope="module")
def renders(small_world):
    """uint8 toyworld renders (N, 64, 64, 3) of the small world's train split and their labels."""
    pairs, _ = small_world
    train = pairs[pairs["split"] == "train"].head(96)
    labels = {family: train[family].astype(str).to_numpy() for family in IMAGE_FAMILIES}
    return decode_to_array(list(train["image"])), labels


@pytest.fixture(scope="module")
def expert(renders):
    images, labels = renders
    return train_image_expert(images, labels, seed=0, epochs=1, batch_size=32, image_size=16,
                              width=WIDTH)


def test_image_families_are_every_drawn_family():
    assert IMAGE_FAMILIES == ("shape", "colour", "size", "position", "count", "word", "texture",
                              "tint", "blur", "border")


def test_expert_predicts_every_image_family_head(expert, renders):
    images, labels = renders
    predictions = predict(expert, images[:10])
    assert tuple(predictions) == IMAGE_FAMILIES
    for family in IMAGE_FAMILIES:
        assert predictions[family].shape == (10,)
        assert set(predictions[family]) <= set(labels[family])  # classes are the seen labels


def test_embed_gives_unit_rows_of_the_penultimate_width(expert, renders):
    images, _ = renders
    vectors = embed(expert, images[:7], batch_size=3)
    assert vectors.shape == (7, 4 * WIDTH) == (7, expert.feature_width)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    with torch.no_grad():  # the trunk output after the training preprocessing, normalised
        features = expert.trunk(to_unit_range(images[:7], expert.image_size)).numpy()
    np.testing.assert_allclose(vectors, features / np.linalg.norm(features, axis=1,
                                                                  keepdims=True), atol=1e-5)
    assert embed(expert, images[:0]).shape == (0, 4 * WIDTH)


def test_preprocessing_is_the_decoders():
    images = np.random.default_rng(0).integers(0, 256, size=(3, 64, 64, 3), dtype=np.uint8)
    assert torch.equal(to_unit_range(images, 32), decoder_preprocessing(images, 32))
    block = to_unit_range(np.full((1, 4, 4, 3), 255, np.uint8), 2)  # area mean of 255s → 1
    assert block.shape == (1, 3, 2, 2) and torch.allclose(block, torch.ones_like(block))


def test_expert_embedder_reads_pil_renders_like_the_arrays(expert, renders, tmp_path):
    images, _ = renders
    save_expert(tmp_path / "model.pt", expert, {"test_accuracy": {"shape": 0.5}})
    loaded, facts = load_expert(tmp_path / "model.pt")
    assert facts["test_accuracy"] == {"shape": 0.5} and loaded.classes == expert.classes
    embedder = load_image_embedder({"kind": "toyworld_expert"}, expert=tmp_path / "model.pt")
    pil = [Image.fromarray(image) for image in images[:5]]
    np.testing.assert_allclose(embedder.embed(pil), embed(expert, images[:5]), atol=1e-6)
    assert embedder.embed([]).shape == (0, 4 * WIDTH)
    with pytest.raises(ValueError, match="expert checkpoint"):
        load_image_embedder({"kind": "toyworld_expert"})


def test_majority_rate_by_hand():
    rates = majority_rate({"blur": np.array(["none", "none", "none", "blurred"]),
                           "shape": np.array(["star", "circle"])})
    assert rates == {"blur": 0.75, "shape": 0.5}


def test_gate_columns_from_hand_set_accuracies():
    accuracies = {"shape": 0.9, "blur": 0.8, "colour": 0.5}
    majority = {"shape": 0.2, "blur": 0.75, "colour": 0.125}
    frame = quality_gates(accuracies, majority, min_accuracy=0.7, min_margin=0.1)
    assert frame["family"].tolist() == ["shape", "blur", "colour"]
    np.testing.assert_allclose(frame["margin"], [0.7, 0.05, 0.375])
    assert frame["pass_accuracy"].tolist() == [True, True, False]
    assert frame["pass_margin"].tolist() == [True, False, True]  # blur: 0.05 over guessing
    assert frame["passed"].tolist() == [True, False, False]
    per_family = quality_gates(accuracies, majority, {"colour": 0.5, "blur": 0.9}, 0.0)
    assert per_family["min_accuracy"].tolist() == [0.0, 0.9, 0.5]  # unlisted: no minimum
    assert per_family["passed"].tolist() == [True, False, True]


# ---------------------------------------------------------------- config


@pytest.fixture(scope="module")
def smoke(repo_root):
    return yaml.safe_load((repo_root / "config" / "smoke.yaml").read_text())


def test_smoke_config_uses_the_expert_without_errors(smoke):
    assert smoke["monosemanticity"]["image_embedder"] == {"kind": "toyworld_expert"}
    assert not [e for e in reference_errors(smoke) if "image_expert" in e]


def test_expert_users_need_the_block_on_a_toyworld_dataset(smoke):
    missing = copy.deepcopy(smoke)
    del missing["image_expert"]
    assert any("'monosemanticity.image_embedder'" in e and "image_expert" in e
               for e in reference_errors(missing))
    wrong = copy.deepcopy(smoke)
    wrong["image_expert"]["dataset"] = "nosuch"
    assert any("'image_expert.dataset'" in e for e in reference_errors(wrong))
