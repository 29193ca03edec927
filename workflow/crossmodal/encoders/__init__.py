"""Encoders behind one interface (``Encoder``): the toy CLIP, open_clip and Hugging Face
transformers; more backends plug in through ``load_encoder``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from crossmodal.encoders.base import Encoder, MissingWeightsError

BACKENDS = ("toy", "open_clip", "transformers")


def load_encoder(spec: Mapping, checkpoint: str | Path | None = None) -> Encoder:
    """Build the encoder described by an ``encoders.<name>`` config block.

    ``backend: toy`` loads the trained checkpoint; ``backend: open_clip`` builds
    ``spec["name"]`` with ``spec.get("pretrained")`` (a tag, a local path, or null for random
    initialisation of the real architecture); ``backend: transformers`` loads ``spec["model"]``
    (a hub name in the local cache, or a local directory) with optional ``precision`` and
    ``cache_dir``. ``precision`` (fp16 / bf16) applies on a GPU only: on the CPU both backends
    run fp32, where half precision is slow or unsupported.
    """
    backend = spec["backend"]
    if backend == "toy":
        from crossmodal.encoders.toy import ToyEncoder

        return ToyEncoder(checkpoint)
    if backend == "open_clip":
        import torch

        from crossmodal.encoders.openclip_backend import OpenClipEncoder

        precision = spec.get("precision", "fp32") if torch.cuda.is_available() else "fp32"
        return OpenClipEncoder(spec["name"], pretrained=spec.get("pretrained"),
                               cache_dir=spec.get("cache_dir"), precision=precision,
                               model_config=spec.get("model_config"))
    if backend == "transformers":
        from crossmodal.encoders.transformers_backend import TransformersEncoder

        return TransformersEncoder(spec["model"], precision=spec.get("precision", "fp32"),
                                   cache_dir=spec.get("cache_dir"))
    raise ValueError(f"unknown encoder backend {backend!r}; choose one of {BACKENDS}")


__all__ = ["BACKENDS", "Encoder", "MissingWeightsError", "load_encoder"]
