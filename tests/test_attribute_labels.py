"""Case study 1's real-data labeller: an offline transformers image classifier → study classes."""

import numpy as np
import pytest
import torch
from PIL import Image

from crossmodal.case_studies.attribute_labels import (
    attribute_labels,
    check_label_map,
    load_image_classifier,
    top_predictions,
)
from crossmodal.encoders.base import MissingWeightsError
from crossmodal.errors import CrossmodalError


@pytest.fixture(scope="module")
def tiny_classifier(tmp_path_factory):
    """A randomly initialised two-class ViT classifier saved like a hub checkpoint."""
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    directory = tmp_path_factory.mktemp("gender-vit")
    torch.manual_seed(0)
    config = ViTConfig(image_size=32, patch_size=8, hidden_size=16, num_hidden_layers=1,
                       num_attention_heads=2, intermediate_size=32, num_labels=2,
                       id2label={0: "Female", 1: "Male"}, label2id={"Female": 0, "Male": 1})
    model = ViTForImageClassification(config).eval()
    model.save_pretrained(directory)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(directory)
    return directory, model


def test_top_predictions_are_the_models_own_softmax(tiny_classifier):
    directory, model = tiny_classifier
    rng = np.random.default_rng(0)
    images = [Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8))
              for _ in range(3)]
    predictions = top_predictions(load_image_classifier(str(directory)), images)
    from transformers import ViTImageProcessor

    pixels = ViTImageProcessor.from_pretrained(directory)(images, return_tensors="pt")
    with torch.no_grad():
        probabilities = model(**pixels).logits.softmax(-1)
    for (label, score), row in zip(predictions, probabilities, strict=True):
        assert label == model.config.id2label[int(row.argmax())]
        assert score == pytest.approx(float(row.max()), abs=1e-5)


def test_labels_map_classes_drop_unknown_and_flag_confidence():
    frame, dropped = attribute_labels(["a", "b", "c"],
                                      [("Female", 0.95), ("male", 0.6), ("child", 0.99)],
                                      {"female": "day", "MALE": "night"}, threshold=0.9)
    assert dropped == 1
    assert frame["pair_id"].tolist() == ["a", "b"]
    assert frame["attribute"].tolist() == ["day", "night"]
    assert frame["confident"].tolist() == [True, False]


def test_a_missing_classifier_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(MissingWeightsError) as error:
        load_image_classifier("nobody/no-such-gender-classifier")
    message = str(error.value)
    assert "\n" not in message and "nobody/no-such-gender-classifier" in message


def test_the_classifier_labels_must_reach_every_study_class(tiny_classifier):
    _, model = tiny_classifier
    labels = {"female": "female", "male": "male"}
    check_label_map("vit", model.config.id2label, labels, ["female", "male"])  # Female / Male
    with pytest.raises(CrossmodalError, match=r"\['LABEL_0', 'LABEL_1'\].*\['female', 'male'\]"):
        check_label_map("vit", {0: "LABEL_0", 1: "LABEL_1"}, labels, ["female", "male"])
    with pytest.raises(CrossmodalError, match=r"class\(es\) \['male'\]"):
        check_label_map("vit", {0: "woman", 1: "child"}, {"woman": "female"}, ["female", "male"])
    with pytest.raises(CrossmodalError, match=r"maps to \['man'\]"):
        check_label_map("vit", model.config.id2label, {"male": "man"}, ["female", "male"])
