"""The transformers backend, offline: tiny randomly initialised models of the real architectures
(CLIPModel, SiglipModel, Siglip2Model) with processors built without the hub, saved with
``save_pretrained`` and loaded back through ``load_encoder``; the errors for weights that are not
on this machine; and the ``backend: transformers`` config schema.

Tokenizers are built offline: CLIP's real ``CLIPTokenizer`` from a vocab.json / merges.txt
written here; SigLIP's ``SiglipTokenizer`` needs sentencepiece (not a project dependency), so the
SigLIP model gets a ``PreTrainedTokenizerFast`` over a ``tokenizers`` WordLevel model with
SigLIP's conventions (``</s>`` appended, and used as the pad token); SigLIP 2 gets its real
``Siglip2Tokenizer`` over a character vocabulary.
"""

from __future__ import annotations

import copy
import io
import json
import logging
from pathlib import Path

import numpy as np
import pytest
import torch
import transformers
import yaml
from PIL import Image
from tokenizers import Tokenizer, models, pre_tokenizers, processors

from crossmodal.config import ConfigError, check_config
from crossmodal.encoders import BACKENDS, load_encoder
from crossmodal.encoders.base import MissingWeightsError
from crossmodal.encoders.transformers_backend import TransformersEncoder
from crossmodal.extract import embed_pairs

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "config" / "schema.yaml"
DIM = 16  # CLIP's projection_dim; the SigLIP towers' width
CONTEXT = 16
WORDS = ["a", "red", "blue", "green", "square", "circle", "photo", "of", "the"]
CAPTIONS = ["a red square", "a photo of the blue circle", "green"]
TOWER = {"hidden_size": DIM, "intermediate_size": 32, "num_hidden_layers": 2,
         "num_attention_heads": 2}
HAS_SIGLIP2 = hasattr(transformers, "Siglip2Model")
KINDS = ["clip", "siglip"] + (["siglip2"] if HAS_SIGLIP2 else [])


def _images() -> list[Image.Image]:
    return [Image.new("RGB", (40, 50), "red"), Image.new("RGB", (64, 64), (0, 90, 200)),
            Image.new("RGB", (33, 33), (20, 160, 40))]


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _clip_tokenizer(directory: Path) -> transformers.CLIPTokenizer:
    """CLIP's byte-level BPE over whole words and single letters (no merges needed)."""
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for token in [f"{w}</w>" for w in WORDS] + [c + e for c in "abcdefghijklmnopqrstuvwxyz"
                                                 for e in ("", "</w>")]:
        vocab.setdefault(token, len(vocab))
    (directory / "vocab.json").write_text(json.dumps(vocab))
    (directory / "merges.txt").write_text("#version: 0.2\n")
    return transformers.CLIPTokenizer(str(directory / "vocab.json"),
                                      str(directory / "merges.txt"))


def _build_clip(directory: Path) -> None:
    tokenizer = _clip_tokenizer(directory)
    text = transformers.CLIPTextConfig(vocab_size=len(tokenizer), max_position_embeddings=CONTEXT,
                                       bos_token_id=0, eos_token_id=1, pad_token_id=1, **TOWER)
    vision = transformers.CLIPVisionConfig(image_size=32, patch_size=16, **TOWER)
    config = transformers.CLIPConfig(text_config=text.to_dict(), vision_config=vision.to_dict(),
                                     projection_dim=DIM)
    image_processor = transformers.CLIPImageProcessor(size={"shortest_edge": 32},
                                                      crop_size={"height": 32, "width": 32})
    transformers.CLIPModel(config).save_pretrained(directory)
    transformers.CLIPProcessor(image_processor=image_processor,
                               tokenizer=tokenizer).save_pretrained(directory)


def _siglip_tokenizer() -> transformers.PreTrainedTokenizerFast:
    """Whole words; ``</s>`` appended to every caption and used for padding, as in SigLIP."""
    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2, **{w: i + 3 for i, w in enumerate(WORDS)}}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.post_processor = processors.TemplateProcessing(single="$A </s>",
                                                           special_tokens=[("</s>", 1)])
    return transformers.PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="</s>",
                                                pad_token="</s>", unk_token="<unk>",
                                                model_max_length=64)


def _siglip_text_config(vocab_size: int) -> dict:
    return dict(vocab_size=vocab_size, max_position_embeddings=CONTEXT, projection_size=DIM,
                pad_token_id=1, bos_token_id=None, eos_token_id=1, **TOWER)


def _build_siglip(directory: Path) -> None:
    tokenizer = _siglip_tokenizer()
    config = transformers.SiglipConfig(
        text_config=_siglip_text_config(len(tokenizer)),
        vision_config=dict(image_size=32, patch_size=16, **TOWER))
    image_processor = transformers.SiglipImageProcessor(size={"height": 32, "width": 32})
    transformers.SiglipModel(config).save_pretrained(directory)
    transformers.SiglipProcessor(image_processor=image_processor,
                                 tokenizer=tokenizer).save_pretrained(directory)


def _build_siglip2(directory: Path) -> None:
    specials = ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>"]
    vocab = {token: i for i, token in enumerate(specials + list("▁abcdefghijklmnopqrstuvwxyz"))}
    tokenizer = transformers.Siglip2Tokenizer(vocab=vocab, merges=[], model_max_length=64)
    config = transformers.Siglip2Config(
        text_config={**_siglip_text_config(len(vocab)), "pad_token_id": 0},
        vision_config=dict(num_patches=16, patch_size=8, **TOWER))
    image_processor = transformers.Siglip2ImageProcessor(patch_size=8, max_num_patches=16)
    transformers.Siglip2Model(config).save_pretrained(directory)
    transformers.Siglip2Processor(image_processor=image_processor,
                                  tokenizer=tokenizer).save_pretrained(directory)


BUILDERS = {"clip": _build_clip, "siglip": _build_siglip, "siglip2": _build_siglip2}


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory) -> dict[str, Path]:
    """Each kind's tiny model and processor, written by ``save_pretrained``."""
    directories = {}
    for kind in KINDS:
        directory = tmp_path_factory.mktemp(kind)
        torch.manual_seed(0)
        BUILDERS[kind](directory)
        directories[kind] = directory
    return directories


@pytest.fixture(scope="module")
def encoders(model_dirs) -> dict[str, TransformersEncoder]:
    return {kind: load_encoder({"backend": "transformers", "model": str(directory)})
            for kind, directory in model_dirs.items()}


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    """No network, and an empty hub cache."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path / "hub"


def test_transformers_is_a_backend():
    assert "transformers" in BACKENDS


@pytest.mark.parametrize("kind", KINDS)
def test_embeddings_have_the_model_dim_and_are_finite_and_deterministic(encoders, model_dirs,
                                                                       kind):
    encoder = encoders[kind]
    assert isinstance(encoder, TransformersEncoder) and encoder.model_type == kind
    image_emb, text_emb = encoder.encode_images(_images()), encoder.encode_texts(CAPTIONS)
    for emb in (image_emb, text_emb):
        assert emb.shape == (3, DIM) and emb.dtype == torch.float32
        assert torch.isfinite(emb).all()
        assert not torch.allclose(emb[0], emb[1])
    reloaded = TransformersEncoder(str(model_dirs[kind]))
    assert torch.equal(reloaded.encode_images(_images()), image_emb)
    assert torch.equal(reloaded.encode_texts(CAPTIONS), text_emb)


@pytest.mark.parametrize("kind", KINDS)
def test_embed_pairs_is_l2_normalised_and_batch_independent(encoders, kind):
    encoder = encoders[kind]
    images = [_png(image) for image in _images()]
    image, text = embed_pairs(encoder, images, CAPTIONS, ["p0", "p1", "p2"], batch_size=2)
    assert image.shape == text.shape == (3, DIM) and image.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(image, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(text, axis=1), 1.0, atol=1e-5)
    alone = torch.nn.functional.normalize(encoder.encode_images(_images()[2:]), dim=-1)
    np.testing.assert_allclose(image[2:], alone.numpy(), atol=1e-5)
    alone = torch.nn.functional.normalize(encoder.encode_texts(CAPTIONS[2:]), dim=-1)
    np.testing.assert_allclose(text[2:], alone.numpy(), atol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_describe_records_the_model(encoders, model_dirs, kind):
    description = encoders[kind].describe()
    assert description["model"] == str(model_dirs[kind])
    assert description["encoder"] == f"transformers:{model_dirs[kind]}"
    assert description["model_type"] == kind
    assert description["backend"] == "TransformersEncoder"
    assert description["dim"] == str(DIM) and description["normalisation"] == "l2"
    assert description["precision"] == "fp32"


@pytest.mark.parametrize("kind", KINDS)
def test_logit_scale_is_the_models(encoders, kind):
    encoder = encoders[kind]
    assert encoder.logit_scale == pytest.approx(float(encoder.model.logit_scale.detach().exp()))
    assert (encoder.logit_bias is None) == (kind == "clip")


def test_clip_pads_to_the_longest_caption_with_a_mask(encoders):
    batch = encoders["clip"].prepare_texts(["red", "a"])
    assert set(batch) == {"input_ids", "attention_mask"}
    assert batch["input_ids"].shape == (2, 5)  # start, r, e, d</w>, end: the longest caption
    assert batch["attention_mask"][1].tolist() == [1, 1, 1, 0, 0]
    long = encoders["clip"].prepare_texts(["a " * 40])
    assert long["input_ids"].shape == (1, CONTEXT)


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "clip"])
def test_siglip_pads_right_to_max_length_without_mask(encoders, kind):
    encoder = encoders[kind]
    batch = encoder.prepare_texts(["red", "a " * 40])
    assert set(batch) == {"input_ids"}  # trained without an attention mask
    assert batch["input_ids"].shape == (2, CONTEXT)
    assert batch["input_ids"][0, -1] == encoder.tokenizer.pad_token_id  # padded on the right
    assert batch["input_ids"][0, 0] != encoder.tokenizer.pad_token_id


@pytest.mark.skipif(not HAS_SIGLIP2, reason="this transformers has no Siglip2Model")
def test_siglip2_uses_its_saved_image_processor(encoders):
    batch = encoders["siglip2"].prepare_images(_images())
    assert set(batch) == {"pixel_values", "pixel_attention_mask", "spatial_shapes"}
    assert batch["pixel_values"].shape[:2] == (3, 16)  # max_num_patches=16, not the default 256


def test_reduced_precision_on_cpu_falls_back_to_fp32_with_a_note(model_dirs, caplog):
    encoder = load_encoder({"backend": "transformers", "model": str(model_dirs["clip"]),
                            "precision": "fp16"})
    with caplog.at_level(logging.WARNING, logger="crossmodal.encoders.transformers_backend"):
        emb = encoder.encode_images(_images())
        encoder.encode_texts(CAPTIONS)
    assert encoder.dtype == torch.float32 and next(encoder.model.parameters()).dtype == torch.float32
    assert torch.isfinite(emb).all()
    notes = [r.message for r in caplog.records if "fp16" in r.message]
    assert len(notes) == 1 and "fp32" in notes[0]
    assert encoder.describe()["precision"] == "fp16"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("precision", ["fp16", "bf16"])
@pytest.mark.parametrize("kind", KINDS)
def test_reduced_precision_on_cuda(model_dirs, encoders, kind, precision):
    encoder = TransformersEncoder(str(model_dirs[kind]), precision=precision, device="cuda")
    assert next(encoder.model.parameters()).dtype == {"fp16": torch.float16,
                                                      "bf16": torch.bfloat16}[precision]
    for encode in ("encode_images", "encode_texts"):
        inputs = _images() if encode == "encode_images" else CAPTIONS
        reduced, full = getattr(encoder, encode)(inputs), getattr(encoders[kind], encode)(inputs)
        assert reduced.dtype == torch.float32 and reduced.device.type == "cpu"
        cosine = torch.nn.functional.cosine_similarity(reduced, full, dim=-1)
        assert (cosine > 0.99).all(), cosine


def test_unknown_precision(model_dirs):
    with pytest.raises(ValueError, match="fp8"):
        TransformersEncoder(str(model_dirs["clip"]), precision="fp8")


def test_uncached_hub_name_raises_one_line_missing_weights(empty_cache):
    name = "nobody-here/clip-vit-nonexistent-patch99"
    with pytest.raises(MissingWeightsError) as err:
        load_encoder({"backend": "transformers", "model": name, "cache_dir": str(empty_cache)})
    message = str(err.value)
    assert "\n" not in message and err.value.__cause__ is None
    assert name in message and str(empty_cache) in message
    assert f"hf download {name} --cache-dir {empty_cache}" in message
    assert "huggingface-cli download" in message and "encoders.<name>.model" in message


def test_uncached_hub_name_names_the_default_cache(empty_cache):
    from huggingface_hub import constants

    with pytest.raises(MissingWeightsError) as err:
        TransformersEncoder("nobody-here/siglip-nonexistent")
    message = str(err.value)
    assert "\n" not in message and "nobody-here/siglip-nonexistent" in message
    assert constants.HF_HUB_CACHE in message


def test_missing_local_directory_names_the_path(tmp_path):
    missing = tmp_path / "no_such_model"
    with pytest.raises(MissingWeightsError) as err:
        TransformersEncoder(str(missing))
    assert str(missing) in str(err.value) and "\n" not in str(err.value)
    missing.mkdir()
    with pytest.raises(MissingWeightsError, match="config.json") as err:
        TransformersEncoder(str(missing))
    assert str(missing) in str(err.value) and "\n" not in str(err.value)


def test_directory_without_weights_names_the_directory(model_dirs, tmp_path):
    config_only = tmp_path / "config_only"
    config_only.mkdir()
    (config_only / "config.json").write_text((model_dirs["clip"] / "config.json").read_text())
    with pytest.raises(MissingWeightsError) as err:
        TransformersEncoder(str(config_only))
    message = str(err.value)
    assert f"directory {config_only}" in message and "hub cache" not in message
    assert "\n" not in message and err.value.__cause__ is None


# --- config schema ---------------------------------------------------------------------------


def _config_with_encoder(encoder: dict) -> dict:
    config = copy.deepcopy(yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text()))
    config["encoders"]["hfclip"] = encoder
    return config


def test_transformers_encoder_config_is_valid():
    check_config(_config_with_encoder({"backend": "transformers", "model": "x"}), SCHEMA)
    full = {"backend": "transformers", "model": "openai/clip-vit-base-patch32",
            "precision": "bf16", "cache_dir": None}
    check_config(_config_with_encoder(full), SCHEMA)


@pytest.mark.parametrize("encoder, expected", [
    ({"backend": "transformers"}, ["'encoders.hfclip'", "'model'", "required"]),
    ({"backend": "transformers", "model": "x", "precision": "amp"},
     ["encoders.hfclip.precision", "'fp32', 'fp16', 'bf16'"]),
    ({"backend": "transformers", "model": "x", "name": "ViT-B-32"},
     ["'encoders.hfclip'", "'name' was unexpected"]),
])
def test_malformed_transformers_encoder_config_raises_one_line(encoder, expected):
    with pytest.raises(ConfigError) as info:
        check_config(_config_with_encoder(encoder), SCHEMA)
    message = str(info.value)
    assert "\n" not in message and message.startswith("config error at '"), message
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"
