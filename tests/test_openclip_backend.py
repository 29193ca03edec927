"""The open_clip backend, offline: a randomly initialised ViT-B-32, and the errors for weights
that are not on this machine (which must fail at once, without trying the network)."""

from __future__ import annotations

import open_clip
import pytest
import torch
from PIL import Image

from crossmodal.encoders.base import MissingWeightsError
from crossmodal.encoders.openclip_backend import OpenClipEncoder


@pytest.fixture(scope="module")
def random_vit():
    return OpenClipEncoder("ViT-B-32", pretrained=None)


@pytest.fixture
def empty_caches(tmp_path, monkeypatch):
    """No network, and every cache open_clip / huggingface_hub could look in is empty."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path


def test_random_vit_encodes_images_and_texts(random_vit):
    images = [Image.new("RGB", (64, 64), colour) for colour in ("red", (0, 90, 200))]
    image_emb = random_vit.encode_images(images)
    text_emb = random_vit.encode_texts(["a red square", "a blue square"])
    for emb in (image_emb, text_emb):
        assert emb.shape == (2, 512)
        assert emb.dtype == torch.float32
        assert torch.isfinite(emb).all()
    assert not torch.allclose(image_emb[0], image_emb[1])
    description = random_vit.describe()
    assert description["dim"] == "512"
    assert description["pretrained"] == "None"
    assert description["encoder"] == "open_clip:ViT-B-32"
    assert description["backend"] == "OpenClipEncoder"


@pytest.mark.parametrize("tag", ["openai", "laion2b_s34b_b79k"])
def test_uncached_tag_raises_one_line_missing_weights(empty_caches, tag):
    with pytest.raises(MissingWeightsError) as err:
        OpenClipEncoder("ViT-B-32", pretrained=tag, cache_dir=str(empty_caches))
    message = str(err.value)
    assert "\n" not in message
    assert tag in message and str(empty_caches) in message and "pretrained" in message
    assert err.value.__cause__ is None


def test_unknown_tag_lists_known_tags():
    with pytest.raises(ValueError, match="laion2b_s34b_b79k") as err:
        OpenClipEncoder("ViT-B-32", pretrained="no_such_tag")
    assert "no_such_tag" in str(err.value) and "openai" in str(err.value)


def test_missing_local_checkpoint_names_the_path(tmp_path):
    missing = tmp_path / "weights" / "model.safetensors"
    with pytest.raises(MissingWeightsError, match="model.safetensors") as err:
        OpenClipEncoder("ViT-B-32", pretrained=str(missing))
    assert str(missing) in str(err.value) and "\n" not in str(err.value)


def test_unknown_architecture():
    with pytest.raises(ValueError, match="ViT-Q-99"):
        OpenClipEncoder("ViT-Q-99")


class _Built(Exception):
    """Stops the (patched) model build once its arguments are recorded."""


def _record_create(monkeypatch) -> dict:
    seen: dict = {}

    def fake_create(name, **kwargs):
        seen.update(kwargs, name=name)
        raise _Built

    monkeypatch.setattr(open_clip, "create_model_and_transforms", fake_create)
    return seen


def test_cached_tag_loads_from_the_hub_cache_without_network(empty_caches, monkeypatch):
    # the layout huggingface_hub's cache uses for laion/CLIP-ViT-B-32-laion2B-s34B-b79K
    repo = empty_caches / "models--laion--CLIP-ViT-B-32-laion2B-s34B-b79K"
    snapshot = repo / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    (snapshot / "open_clip_pytorch_model.bin").write_bytes(b"")
    seen = _record_create(monkeypatch)
    with pytest.raises(_Built):
        OpenClipEncoder("ViT-B-32", pretrained="laion2b_s34b_b79k", cache_dir=str(empty_caches))
    assert seen["pretrained"] == str(snapshot / "open_clip_pytorch_model.bin")
    assert seen["force_quick_gelu"] is False
    assert seen["image_interpolation"] == "bicubic"


def test_existing_local_checkpoint_is_passed_to_open_clip(tmp_path, monkeypatch):
    checkpoint = tmp_path / "model.pt"
    checkpoint.write_bytes(b"")
    seen = _record_create(monkeypatch)
    with pytest.raises(_Built):
        OpenClipEncoder("ViT-B-32", pretrained=str(checkpoint))
    assert seen["pretrained"] == str(checkpoint)


def test_network_errors_become_missing_weights(monkeypatch, tmp_path):
    def offline(name, **kwargs):
        raise OSError("Failed to resolve 'huggingface.co'\nretrying ...")

    monkeypatch.setattr(open_clip, "create_model_and_transforms", offline)
    checkpoint = tmp_path / "model.pt"
    checkpoint.write_bytes(b"")
    with pytest.raises(MissingWeightsError, match="huggingface.co") as err:
        OpenClipEncoder("ViT-B-32", pretrained=str(checkpoint))
    assert "\n" not in str(err.value) and err.value.__cause__ is None


@pytest.mark.parametrize("cuda, expected", [(False, "fp32"), (True, "fp16")])
def test_half_precision_applies_on_a_gpu_only(monkeypatch, cuda, expected):
    import torch

    from crossmodal.encoders import load_encoder

    seen = _record_create(monkeypatch)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    with pytest.raises(_Built):
        load_encoder({"backend": "open_clip", "name": "ViT-B-32", "pretrained": None,
                      "precision": "fp16"})
    assert seen["precision"] == expected
