"""The toy CLIP: real open_clip towers from a custom model config.

The config is written as JSON next to the checkpoint and registered with
``open_clip.add_model_config`` under a name unique to the encoder, then built by
``open_clip.create_model`` — the same path as any open_clip architecture. The image tower is
open_clip's ModifiedResNet (a convolutional stem gives shape the capacity it needs at 64 px),
the text tower a small causal transformer over the word-level vocabulary.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from pathlib import Path

import open_clip
import torch

from crossmodal.encoders.tokenizer import EOT, PAD


def toy_model_config(architecture: Mapping, vocab_size: int, image_size: int) -> dict:
    """open_clip model config for the ``architecture`` block of a toy encoder's config."""
    return {
        "embed_dim": architecture["embed_dim"],
        "init_logit_scale": math.log(architecture["init_logit_scale"]),
        "vision_cfg": {
            "layers": list(architecture["vision_layers"]),
            "width": architecture["vision_width"],
            "head_width": architecture["vision_head_width"],
            "image_size": image_size,
        },
        "text_cfg": {
            "context_length": architecture["context_length"],
            "vocab_size": vocab_size,
            "width": architecture["text_width"],
            "heads": architecture["text_heads"],
            "layers": architecture["text_layers"],
            "pad_id": PAD,
            "eos_id": EOT,
            "pool_type": "eos",
        },
    }


def register_model_config(config: Mapping, path: Path) -> str:
    """Write ``config`` to ``path`` (a ``.json`` file) and register it; returns the model name."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=1))
    open_clip.add_model_config(path)
    return path.stem


def create_toy_clip(config: Mapping, config_path: Path, seed: int = 0) -> torch.nn.Module:
    """An open_clip CLIP built from ``config`` (registered at ``config_path``), its random
    initialisation drawn from ``seed``."""
    name = register_model_config(config, config_path)
    torch.manual_seed(seed)
    # open_clip warns "No pretrained weights loaded … initialized randomly" through the root
    # logger: true, and the point, for a toy model (a trained one loads its state dict next)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        return open_clip.create_model(name, pretrained=None, device="cpu", output_dict=True)
    finally:
        root.setLevel(level)
