"""The DeCLIP → open_clip converter on a tiny fake checkpoint: a random open_clip CLIP saved
under DeCLIP's names (module. prefix, encode_text.*, a biased text projection, training-only
heads) converts back to a model whose image and text features are the original's."""

import json

import open_clip
import pytest
import torch

from crossmodal.encoders.declip import convert, write_open_clip
from crossmodal.encoders.openclip_backend import OpenClipEncoder
from crossmodal.errors import CrossmodalError

TINY = {"embed_dim": 24, "quick_gelu": True,
        "vision_cfg": {"image_size": 32, "layers": 2, "width": 64, "patch_size": 8,
                       "head_width": 64},
        "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 64, "heads": 1,
                     "layers": 2, "proj_type": "linear", "proj_bias": True}}
TEXT_NAMES = ("token_embedding.", "positional_embedding", "transformer.", "ln_final.",
              "text_projection.")


@pytest.fixture
def original(tmp_path):
    path = tmp_path / "tiny_reference.json"
    path.write_text(json.dumps(TINY))
    open_clip.add_model_config(path)
    torch.manual_seed(0)
    model = open_clip.create_model("tiny_reference", pretrained=None)
    with torch.no_grad():
        model.text_projection.bias.normal_()  # a bias that matters
    return model.eval()


def declip_checkpoint(model, path):
    """``model``'s weights under DeCLIP's names, as its distributed training saved them."""
    state = {}
    for key, value in model.state_dict().items():
        text = key.startswith(TEXT_NAMES)
        state[f"module.{'encode_text.' if text else ''}{key}"] = value
    state["module.projector.linear1.weight"] = torch.zeros(4, 24)  # SimSiam, training only
    state["module.predictor.layer2.bias"] = torch.zeros(4)
    torch.save({"model": state, "epoch": 32}, path)


def test_converted_declip_gives_the_original_features(original, tmp_path):
    declip_checkpoint(original, tmp_path / "declip.pth")
    weights = write_open_clip(tmp_path / "declip.pth", tmp_path / "out", name="DeCLIP-tiny")
    config = json.loads((tmp_path / "out" / "DeCLIP-tiny.json").read_text())
    assert config == TINY  # every size read off the tensors
    encoder = OpenClipEncoder("DeCLIP-tiny", pretrained=str(weights),
                              model_config=str(tmp_path / "out" / "DeCLIP-tiny.json"))
    tokens = open_clip.get_tokenizer("tiny_reference")(["a red circle", "two stars"])
    pixels = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(encoder.model.encode_text(tokens), original.encode_text(tokens),
                              atol=1e-6)
        assert torch.allclose(encoder.model.encode_image(pixels),
                              original.encode_image(pixels), atol=1e-6)


def test_training_only_heads_are_dropped_and_a_resnet_is_refused(original):
    state = {("encode_text." if k.startswith(TEXT_NAMES) else "") + k: v
             for k, v in original.state_dict().items()}
    state["projector.linear1.weight"] = torch.zeros(1)
    _, converted, dropped = convert(state)
    assert dropped == ["projector.linear1.weight"]
    assert set(converted) == set(original.state_dict())
    with pytest.raises(CrossmodalError, match="not a DeCLIP ViT checkpoint: no visual.conv1"):
        convert({"visual.layer1.0.conv1.weight": torch.zeros(1)})
