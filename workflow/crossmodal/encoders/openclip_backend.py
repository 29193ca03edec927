"""open_clip models as an ``Encoder``: pretrained weights from the local cache or a file, or
the real architecture randomly initialised.

This backend never downloads. A pretrained tag is resolved to a file in the cache open_clip
itself uses (the Hugging Face hub cache, or ``~/.cache/clip`` for url-only entries; both
replaced by ``cache_dir`` when given) before the model is built; weights that are not there
raise ``MissingWeightsError`` with a one-line message saying what is missing, where it was
looked for and how to provide it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import open_clip
import torch
from open_clip import pretrained as oc_pretrained
from PIL import Image

from crossmodal.encoders.base import Encoder, MissingWeightsError

_CHECKPOINT_SUFFIXES = (".pt", ".pth", ".bin", ".safetensors")


def _looks_like_path(value: str) -> bool:
    return "/" in value or os.sep in value or value.endswith(_CHECKPOINT_SUFFIXES)


def _cached_checkpoint(cfg: dict, cache_dir: str | None) -> tuple[str | None, str]:
    """(local file or None, where it was looked for) for a pretrained config, searched the
    way ``open_clip.pretrained.download_pretrained`` would download it, without network."""
    if cfg.get("file"):
        path = cfg["file"]
        return (path if os.path.isfile(path) else None), path
    hf_hub, url = cfg.get("hf_hub", ""), cfg.get("url", "")
    if hf_hub and oc_pretrained.has_hf_hub():
        from huggingface_hub import constants, try_to_load_from_cache

        hub_dir = cache_dir or constants.HF_HUB_CACHE
        repo_id, filename = os.path.split(hf_hub)
        filename = filename or oc_pretrained.HF_WEIGHTS_NAME
        candidates = [*oc_pretrained._get_safe_alternatives(filename), filename]
        for candidate in candidates:
            found = try_to_load_from_cache(repo_id, candidate, cache_dir=hub_dir)
            if isinstance(found, str) and os.path.isfile(found):
                return found, hub_dir
        return None, f"{hub_dir} (hub repo {repo_id}, files {', '.join(candidates)})"
    if url:
        clip_dir = cache_dir or os.path.expanduser("~/.cache/clip")
        path = os.path.join(clip_dir, os.path.basename(url))
        return (path if os.path.isfile(path) else None), path
    return None, "nowhere (the pretrained config names no file, hub repo or url)"


def register_model_config(model_config: str | None) -> None:
    """Make the architecture of an open_clip model-config JSON file known to open_clip under
    the file's stem (e.g. a converted DeCLIP, crossmodal.encoders.declip)."""
    if model_config is None:
        return
    path = Path(model_config).expanduser()
    if not path.is_file():
        raise MissingWeightsError(f"open_clip model config {model_config} not found; write it "
                                  f"with `python -m crossmodal.encoders.declip` or fix the path")
    open_clip.add_model_config(path)


def resolve_weights(name: str, pretrained: str | None, cache_dir: str | None = None,
                    model_config: str | None = None) -> tuple[str, str | None, dict]:
    """(architecture, local weights file or None, the tag's training settings) for an open_clip
    model, without building it or touching the network: the checks a plan can run. Raises
    ValueError for an unknown architecture or tag, MissingWeightsError (one line: what, where,
    how to fetch it) for weights that are not on this machine. ``model_config``: an extra
    architecture's JSON file, registered first."""
    register_model_config(model_config)
    arch = name.replace("/", "-")
    if arch not in open_clip.list_models():
        raise ValueError(f"unknown open_clip architecture {name!r}; see "
                         f"`python -c \"import open_clip; print(open_clip.list_models())\"`")
    if pretrained is None:
        return arch, None, {}
    if os.path.isfile(os.path.expanduser(pretrained)):
        return arch, os.path.expanduser(pretrained), {}
    if _looks_like_path(pretrained):
        raise MissingWeightsError(
            f"open_clip {arch} checkpoint {pretrained} not found; copy the checkpoint "
            f"there or set `pretrained:` to an existing file or an open_clip tag")
    cfg = open_clip.get_pretrained_cfg(arch, pretrained)
    if not cfg:
        raise ValueError(
            f"unknown open_clip pretrained tag {pretrained!r} for {arch}; known tags: "
            f"{', '.join(open_clip.list_pretrained_tags_by_model(arch))}")
    checkpoint, searched = _cached_checkpoint(cfg, cache_dir)
    if checkpoint is None:
        problem = f"not in the local cache (searched {searched})"
        raise MissingWeightsError(OpenClipEncoder._missing(arch, pretrained, cache_dir, problem))
    # the tag's training settings, which open_clip applies only for a tag
    return arch, checkpoint, {"force_quick_gelu": bool(cfg.get("quick_gelu", False)),
                              "image_mean": cfg.get("mean"), "image_std": cfg.get("std"),
                              "image_interpolation": cfg.get("interpolation"),
                              "image_resize_mode": cfg.get("resize_mode")}


class OpenClipEncoder(Encoder):
    """An open_clip CLIP model (``name``, e.g. ``"ViT-B-32"``) with its tokenizer and eval
    preprocessing.

    ``pretrained`` is ``None`` (random initialisation, no weights needed), a local checkpoint
    path, or an open_clip tag for ``name`` (e.g. ``"openai"``, ``"laion2b_s34b_b79k"``) whose
    weights must already be in the local cache. ``precision`` is passed to open_clip
    (``"fp32"``, ``"fp16"``, ``"bf16"``, ...).
    """

    normalisation = "l2"

    def __init__(self, name: str, pretrained: str | None = None, cache_dir: str | None = None,
                 precision: str = "fp32", model_config: str | None = None):
        super().__init__()
        arch, self.checkpoint, extra = resolve_weights(name, pretrained, cache_dir, model_config)
        self.name = f"open_clip:{arch}"
        self.pretrained = pretrained
        try:
            self.model, _, self.preprocess = open_clip.create_model_and_transforms(
                arch, pretrained=self.checkpoint, cache_dir=cache_dir, precision=precision,
                **extra)
            self.tokenizer = open_clip.get_tokenizer(arch)
        except OSError as err:  # hub / network errors: something still wanted a download
            reason = (str(err).splitlines() or [type(err).__name__])[0]
            raise MissingWeightsError(self._missing(
                arch, pretrained, cache_dir, f"could not be loaded offline ({reason})")) from None
        self.model.eval()
        self.input_dtype = open_clip.get_input_dtype(precision)
        self.dim = int(self.model.visual.output_dim)

    @staticmethod
    def _missing(arch: str, tag: str | None, cache_dir: str | None, problem: str) -> str:
        """The one-line MissingWeightsError message: what, where, how to provide it."""
        cache_arg = f", cache_dir='{cache_dir}'" if cache_dir else ""
        command = (f"import open_clip; open_clip.create_model_and_transforms('{arch}', "
                   f"pretrained='{tag}'{cache_arg})")
        return (f"open_clip weights {arch} pretrained='{tag}' {problem}; run "
                f"`python -c \"{command}\"` on a machine with internet and copy its cache "
                f"directory here, or set `pretrained:` to a local checkpoint path")

    def to(self, device: str | torch.device) -> OpenClipEncoder:
        super().to(device)
        self.model.to(self.device)
        return self

    def prepare_images(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """(b, 3, h, w) pixels through the model's eval preprocessing."""
        return torch.stack([self.preprocess(image.convert("RGB")) for image in images])

    def prepare_texts(self, texts: Sequence[str]) -> torch.Tensor:
        """(b, context_length) token ids."""
        return self.tokenizer(list(texts))

    def embed_images(self, batch: torch.Tensor) -> torch.Tensor:
        return self.model.encode_image(batch.to(self.device, dtype=self.input_dtype)).float()

    def embed_texts(self, batch: torch.Tensor) -> torch.Tensor:
        return self.model.encode_text(batch.to(self.device)).float()
