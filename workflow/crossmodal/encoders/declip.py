"""DeCLIP checkpoints (Sense-GVT/DeCLIP) as open_clip models.

A DeCLIP ViT checkpoint is an OpenAI-style CLIP under other names: its image tower
``visual.*`` has open_clip's layout already (conv1, class and positional embeddings, ln_pre,
``transformer.resblocks.*`` with QuickGELU, ln_post, proj); its text tower lives under
``encode_text.*`` (token and positional embeddings, ``transformer.resblocks.*``, ln_final) and
projects with an ``nn.Linear`` *with a bias*, which open_clip builds when the text config says
``proj_type: linear, proj_bias: true``. Everything else (the SimSiam projector and predictor, the
nearest-neighbour banks, the masked-language head) serves training only and is dropped.

:func:`convert` returns the open_clip model config read off the tensors' shapes and the state
dict under open_clip's names; ``python -m crossmodal.encoders.declip CHECKPOINT OUT_DIR`` writes
``OUT_DIR/<name>.json`` and ``OUT_DIR/<name>.pt``. An encoder block then loads it with
``backend: open_clip, name: <name>, model_config: OUT_DIR/<name>.json,
pretrained: OUT_DIR/<name>.pt``.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Mapping
from pathlib import Path

import torch

from crossmodal.errors import CrossmodalError

TEXT_RENAMES = {"encode_text.token_embedding.": "token_embedding.",
                "encode_text.positional_embedding": "positional_embedding",
                "encode_text.transformer.": "transformer.",
                "encode_text.ln_final.": "ln_final.",
                "encode_text.text_projection.": "text_projection."}
KEPT = ("visual.", "logit_scale", *TEXT_RENAMES)
NAME = "DeCLIP-ViT"


def checkpoint_state(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors of a DeCLIP checkpoint file: the ``model`` / ``state_dict`` entry when the
    file wraps one, with the ``module.`` prefix of distributed training removed."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("model", "state_dict"):
        if isinstance(state, Mapping) and key in state and isinstance(state[key], Mapping):
            state = state[key]
    return {key.removeprefix("module."): value for key, value in state.items()}


def _layers(state: Mapping[str, torch.Tensor], prefix: str) -> int:
    found = {int(m.group(1)) for key in state
             if (m := re.match(re.escape(prefix) + r"transformer\.resblocks\.(\d+)\.", key))}
    return max(found) + 1 if found else 0


def model_config(state: Mapping[str, torch.Tensor]) -> dict:
    """The open_clip model config of a DeCLIP ViT state dict, read off its shapes: patch size
    and width from conv1 (width, 3, p, p), image size p·√(positions − 1), embed_dim from
    visual.proj (width, embed_dim), heads = width / 64 in both towers as in CLIP."""
    required = ["visual.conv1.weight", "visual.positional_embedding", "visual.proj",
                "encode_text.token_embedding.weight", "encode_text.positional_embedding",
                "encode_text.text_projection.weight"]
    missing = [key for key in required if key not in state]
    if missing:
        raise CrossmodalError(f"not a DeCLIP ViT checkpoint: no {missing[0]} (ResNet DeCLIP "
                              "checkpoints are not supported)")
    width, _, patch, _ = state["visual.conv1.weight"].shape
    grid = round((state["visual.positional_embedding"].shape[0] - 1) ** 0.5)
    vocab, text_width = state["encode_text.token_embedding.weight"].shape
    return {"embed_dim": int(state["visual.proj"].shape[1]),
            "quick_gelu": True,
            "vision_cfg": {"image_size": int(grid * patch), "layers": _layers(state, "visual."),
                           "width": int(width), "patch_size": int(patch),
                           "head_width": 64},
            "text_cfg": {"context_length": int(state["encode_text.positional_embedding"].shape[0]),
                         "vocab_size": int(vocab), "width": int(text_width),
                         "heads": max(1, int(text_width) // 64),
                         "layers": _layers(state, "encode_text."),
                         "proj_type": "linear", "proj_bias": True}}


def convert(state: Mapping[str, torch.Tensor]) -> tuple[dict, dict[str, torch.Tensor], list[str]]:
    """(open_clip model config, state dict under open_clip's names, the training-only keys
    dropped) of a DeCLIP ViT state dict (``module.`` prefix already removed)."""
    config = model_config(state)
    converted, dropped = {}, []
    for key, value in state.items():
        if key.startswith("visual.") or key == "logit_scale":
            converted[key] = value
            continue
        prefix = next((p for p in TEXT_RENAMES if key.startswith(p)), None)
        if prefix is None:
            dropped.append(key)
            continue
        converted[TEXT_RENAMES[prefix] + key[len(prefix):]] = value
    converted.setdefault("logit_scale", torch.tensor(float(torch.log(torch.tensor(100.0)))))
    return config, converted, dropped


def write_open_clip(checkpoint: str | Path, out_dir: str | Path, name: str = NAME) -> Path:
    """Convert ``checkpoint`` and write ``out_dir/<name>.json`` (the model config) and
    ``out_dir/<name>.pt`` (the weights); returns the weights' path."""
    config, converted, dropped = convert(checkpoint_state(checkpoint))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}.json").write_text(json.dumps(config, indent=1))
    weights = out_dir / f"{name}.pt"
    torch.save(converted, weights)
    print(f"wrote {weights} and {name}.json ({len(converted)} tensors; dropped "
          f"{len(dropped)} training-only ones, e.g. {dropped[:3]})")
    return weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="the DeCLIP checkpoint (.pth.tar / .pt)")
    parser.add_argument("out_dir", help="where <name>.json and <name>.pt are written")
    parser.add_argument("--name", default=NAME, help=f"the open_clip model name (default {NAME})")
    args = parser.parse_args()
    write_open_clip(args.checkpoint, args.out_dir, args.name)


if __name__ == "__main__":
    main()
