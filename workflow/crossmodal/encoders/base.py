"""The ``Encoder`` interface every backend implements (toy, open_clip, later transformers).

Extraction works in two steps so that input preparation can overlap the forward pass:
``prepare_images`` / ``prepare_texts`` turn raw inputs into a model-ready batch on the CPU (a
tensor, or a dict of tensors for tokenizers that return masks), ``embed_images`` /
``embed_texts`` move the batch to ``self.device`` and run the towers. Embeddings come back
unnormalised, float32, on the CPU; ``normalisation`` says what the workflow applies when it
stores them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import torch
from PIL import Image

from crossmodal.errors import CrossmodalError


class MissingWeightsError(CrossmodalError, RuntimeError):
    """Weights that are neither cached nor reachable: the message says what, where, and how."""


class Encoder(ABC):
    """A dual encoder: images and texts into one ``dim``-dimensional space."""

    name: str
    pretrained: str | None
    dim: int
    normalisation: str = "l2"  # what extraction applies before storing: "l2" or "none"

    def __init__(self) -> None:
        self.device = torch.device("cpu")

    def to(self, device: str | torch.device) -> Encoder:
        """Move the towers to ``device``; subclasses move their modules."""
        self.device = torch.device(device)
        return self

    @abstractmethod
    def prepare_images(self, images: Sequence[Image.Image]) -> Any:
        """Model-ready pixel batch for RGB PIL images."""

    @abstractmethod
    def prepare_texts(self, texts: Sequence[str]) -> Any:
        """Model-ready token batch for captions."""

    @abstractmethod
    def embed_images(self, batch: Any) -> torch.Tensor:
        """(b, dim) float32 image embeddings of a prepared batch."""

    @abstractmethod
    def embed_texts(self, batch: Any) -> torch.Tensor:
        """(b, dim) float32 text embeddings of a prepared batch."""

    @torch.inference_mode()
    def encode_images(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """Prepare and embed in one call (small batches, tests, prompts)."""
        return self.embed_images(self.prepare_images(images)).float().cpu()

    @torch.inference_mode()
    def encode_texts(self, texts: Sequence[str]) -> torch.Tensor:
        return self.embed_texts(self.prepare_texts(texts)).float().cpu()

    @property
    def logit_scale(self) -> float:
        """The contrastive temperature's inverse s in p(text | image) ∝ exp(s · cos): the
        model's own when it has one (open_clip ``logit_scale``), else CLIP's 100."""
        scale = getattr(getattr(self, "model", None), "logit_scale", None)
        return float(scale.detach().exp()) if scale is not None else 100.0

    def describe(self) -> dict[str, str]:
        """What goes into the embedding parquet's schema metadata."""
        return {"encoder": self.name, "pretrained": str(self.pretrained),
                "normalisation": self.normalisation, "dim": str(self.dim),
                "backend": type(self).__name__}
