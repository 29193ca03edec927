"""Hugging Face ``transformers`` dual encoders (CLIPModel, SiglipModel, Siglip2Model) as an
``Encoder``: a hub name resolved in the local cache, or a local directory.

This backend never downloads: the model and its processor are loaded with
``local_files_only=True`` from the Hugging Face hub cache (``cache_dir`` when given) or from a
directory written by ``save_pretrained``. Weights that are not there raise
``MissingWeightsError`` with a one-line message naming the model, the cache searched and how to
provide it.

Texts are tokenized the way each family was trained: CLIP pads to the longest caption (its
causal text tower pools at the end-of-text token, so padding never reaches the embedding);
the SigLIP family pads on the right to the full context (``padding="max_length"``) and is run
without an attention mask, as in big_vision and open_clip, because its text tower pools the
last position.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence

import torch
from PIL import Image

from crossmodal.encoders.base import Encoder, MissingWeightsError

logger = logging.getLogger(__name__)

PRECISIONS = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
_PATH_PREFIXES = ("/", "./", "../", "~")


def is_siglip_family(model_type: str) -> bool:
    """SigLIP and SigLIP 2 (``siglip``, ``siglip2``): sigmoid loss, last-token text pooling."""
    return model_type.startswith("siglip")


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _hub_cache(cache_dir: str | None) -> str:
    """The directory a hub name is looked up in."""
    if cache_dir:
        return cache_dir
    from huggingface_hub import constants

    return constants.HF_HUB_CACHE


def missing_weights_message(model: str, cache_dir: str | None, reason: str,
                             local: bool = False) -> str:
    """The one-line MissingWeightsError message: what, where (the directory ``model`` when
    ``local``, else the hub cache searched), how to provide it."""
    if local:
        return (f"transformers model directory {model} could not be loaded ({reason}); write it "
                f"with `save_pretrained` (model and processor) or set `encoders.<name>.model` to "
                f"a hub name that is in the local cache")
    cache = _hub_cache(cache_dir)
    cache_arg = f" --cache-dir {cache}" if cache_dir else ""
    return (f"transformers model {model} could not be loaded offline from the hub cache {cache} "
            f"({reason}); run `hf download {model}{cache_arg}` (`huggingface-cli download` "
            f"before huggingface_hub 1.0) on a machine with network and copy that cache here, or "
            f"set `encoders.<name>.model` to a local directory holding the model and its processor")


def _local_source(model: str, cache_dir: str | None) -> str:
    """``model`` as a directory to load from when it is one, else the hub name unchanged;
    ``MissingWeightsError`` for a path that is no model directory."""
    directory = os.path.expanduser(model)
    if os.path.isdir(directory):
        if not os.path.isfile(os.path.join(directory, "config.json")):
            raise MissingWeightsError(missing_weights_message(
                model, cache_dir, "no config.json in it", local=True))
        return directory
    if model.startswith(_PATH_PREFIXES):
        raise MissingWeightsError(missing_weights_message(model, cache_dir, "no such directory",
                                                          local=True))
    return model


def in_hub_cache(model: str, filename: str, cache_dir: str | None = None) -> bool:
    """Whether the hub cache holds ``filename`` of the hub name ``model`` (False for a name the
    hub would reject). Reads the cache only; never the network."""
    from huggingface_hub import try_to_load_from_cache
    from huggingface_hub.errors import HFValidationError

    try:
        found = try_to_load_from_cache(model, filename, cache_dir=_hub_cache(cache_dir))
    except HFValidationError:
        return False
    return isinstance(found, str) and os.path.isfile(found)


def pretrained_offline(name: str, classes: Sequence, describe: Callable[[str], str]) -> tuple:
    """``cls.from_pretrained(name, local_files_only=True)`` for each of ``classes`` (a model
    class, its processor or tokenizer class …), never the network; a one-line
    ``MissingWeightsError(describe(reason))`` when any of them is not on this machine."""
    try:
        return tuple(cls.from_pretrained(name, local_files_only=True) for cls in classes)
    except (OSError, ValueError) as error:
        raise MissingWeightsError(describe(_first_line(error))) from None


def check_offline(model: str, cache_dir: str | None = None) -> None:
    """MissingWeightsError (one line) when ``model`` — a local directory or a hub name — is not
    on this machine: the directory lacks config.json, or the hub cache has no config.json for
    the name. Builds nothing: the check a plan can run before any job."""
    source = _local_source(model, cache_dir)
    if not os.path.isdir(source) and not in_hub_cache(model, "config.json", cache_dir):
        raise MissingWeightsError(missing_weights_message(model, cache_dir,
                                                          "no config.json in the cache"))


def load_offline(model: str, cache_dir: str | None = None):
    """(model, processor) from the local cache or directory ``model``, never the network."""
    from huggingface_hub.errors import HFValidationError
    from transformers import AutoModel, AutoProcessor

    source = _local_source(model, cache_dir)
    try:
        network, info = AutoModel.from_pretrained(source, cache_dir=cache_dir,
                                                  local_files_only=True,
                                                  output_loading_info=True)
        processor = AutoProcessor.from_pretrained(source, cache_dir=cache_dir,
                                                  local_files_only=True)
    except (OSError, HFValidationError) as error:
        raise MissingWeightsError(missing_weights_message(model, cache_dir, _first_line(error),
                                                          local=os.path.isdir(source))) from None
    except (ImportError, ValueError) as error:  # e.g. SigLIP's tokenizer needs sentencepiece
        raise ValueError(f"transformers could not build {model} offline: {_first_line(error)}"
                         ) from None
    if info.get("missing_keys"):
        logger.warning("transformers model %s: %d weights missing from the checkpoint and "
                       "randomly initialised (first: %s)", model, len(info["missing_keys"]),
                       ", ".join(sorted(info["missing_keys"])[:3]))
    return network, processor


def _features(output) -> torch.Tensor:
    """The projected embedding from ``get_*_features``: a tensor in transformers 4, a
    ``BaseModelOutputWithPooling`` whose ``pooler_output`` holds it in transformers 5."""
    return output if isinstance(output, torch.Tensor) else output.pooler_output


class TransformersEncoder(Encoder):
    """A ``transformers`` CLIP / SigLIP / SigLIP 2 model with its processor.

    ``model`` is a hub name (e.g. ``"openai/clip-vit-base-patch32"``,
    ``"google/siglip-base-patch16-224"``) that must already be in the local hub cache
    (``cache_dir`` or ``huggingface_hub.constants.HF_HUB_CACHE``), or a local directory.
    ``precision`` (``"fp32"``, ``"fp16"``, ``"bf16"``) applies on CUDA; elsewhere the towers
    run in fp32 and a note is logged the first time they are used.
    """

    normalisation = "l2"

    def __init__(self, model: str, precision: str = "fp32", cache_dir: str | None = None,
                 device: str | torch.device | None = None):
        super().__init__()
        if precision not in PRECISIONS:
            raise ValueError(f"unknown precision {precision!r} for transformers model {model}; "
                             f"choose one of {sorted(PRECISIONS)}")
        self.model_name = str(model)
        self.name = f"transformers:{self.model_name}"
        self.pretrained = self.model_name
        self.precision = precision
        self.model, self.processor = load_offline(self.model_name, cache_dir)
        self.model_type = str(self.model.config.model_type)
        self._check_dual_encoder()
        self.image_processor = self.processor.image_processor
        self.tokenizer = self.processor.tokenizer
        self.siglip = is_siglip_family(self.model_type)
        if self.siglip:
            self.tokenizer.padding_side = "right"  # as trained: pad after the text, no mask
        self.context_length = self._context_length()
        self.dim = self._embedding_dim()
        self._fallback_noted = False
        self.model.eval()
        self.to(device or "cpu")

    def _check_dual_encoder(self) -> None:
        """The model must have both towers and the processor both halves."""
        towers = all(hasattr(self.model, f) for f in ("get_image_features", "get_text_features"))
        halves = all(hasattr(self.processor, a) for a in ("image_processor", "tokenizer"))
        if not (towers and halves):
            raise ValueError(f"transformers model {self.model_name} (model type "
                             f"{self.model_type!r}, {type(self.model).__name__}) is not an "
                             f"image-text dual encoder with an image processor and a tokenizer; "
                             f"use a CLIP, SigLIP or SigLIP 2 checkpoint")

    def _context_length(self) -> int:
        """Tokens per caption: the tokenizer's limit, capped by the text tower's positions."""
        positions = int(self.model.config.text_config.max_position_embeddings)
        return min(int(self.tokenizer.model_max_length), positions)

    def _embedding_dim(self) -> int:
        """CLIP projects both towers to ``projection_dim``; SigLIP's towers share the width."""
        config = self.model.config
        return int(getattr(config, "projection_dim", None) or config.vision_config.hidden_size)

    @property
    def dtype(self) -> torch.dtype:
        """The dtype the towers run in on ``self.device``."""
        return PRECISIONS[self.precision] if self.device.type == "cuda" else torch.float32

    def to(self, device: str | torch.device) -> TransformersEncoder:
        super().to(device)
        self.model.to(device=self.device, dtype=self.dtype)
        return self

    @property
    def logit_scale(self) -> float:
        """``exp(logit_scale)`` of the model. For CLIP p(text | image) ∝ exp(s · cos); SigLIP
        was trained with a sigmoid, p(match) = sigmoid(s · cos + b), whose bias b is
        ``logit_bias`` — softmax over candidates ignores b, so s alone ranks them."""
        return float(self.model.logit_scale.detach().float().exp())

    @property
    def logit_bias(self) -> float | None:
        """SigLIP's sigmoid bias b (None for CLIP, which has none)."""
        bias = getattr(self.model, "logit_bias", None)
        return None if bias is None else float(bias.detach().float().reshape(-1)[0])

    def describe(self) -> dict[str, str]:
        description = super().describe()
        description.update(model=self.model_name, model_type=self.model_type,
                           precision=self.precision)
        commit = getattr(self.model.config, "_commit_hash", None)
        if commit:
            description["model_commit"] = str(commit)
        return description

    def prepare_images(self, images: Sequence[Image.Image]) -> dict[str, torch.Tensor]:
        """The image processor's batch: ``pixel_values`` (and SigLIP 2's patch mask and
        spatial shapes), on the CPU."""
        rgb = [image.convert("RGB") for image in images]
        return dict(self.image_processor(images=rgb, return_tensors="pt"))

    def prepare_texts(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        """Token ids (and CLIP's attention mask), truncated to the context length."""
        padding = "max_length" if self.siglip else "longest"
        batch = dict(self.tokenizer(list(texts), padding=padding, truncation=True,
                                    max_length=self.context_length, return_tensors="pt"))
        if self.siglip:
            return {"input_ids": batch["input_ids"]}
        return {key: batch[key] for key in ("input_ids", "attention_mask") if key in batch}

    def _on_device(self, batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The batch on ``self.device``, floating tensors (pixels) in the towers' dtype."""
        self._note_cpu_fallback()
        return {key: value.to(self.device, dtype=self.dtype) if value.is_floating_point()
                else value.to(self.device) for key, value in batch.items()}

    def _note_cpu_fallback(self) -> None:
        if self.dtype != PRECISIONS[self.precision] and not self._fallback_noted:
            self._fallback_noted = True
            logger.warning("transformers model %s: precision %s needs CUDA; running in fp32 on "
                           "%s", self.model_name, self.precision, self.device)

    @torch.inference_mode()
    def embed_images(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return _features(self.model.get_image_features(**self._on_device(batch))).float()

    @torch.inference_mode()
    def embed_texts(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return _features(self.model.get_text_features(**self._on_device(batch))).float()
