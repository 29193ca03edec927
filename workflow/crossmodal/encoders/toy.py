"""The trained toy CLIP as an ``Encoder``, and its checkpoint format.

A checkpoint (``results/encoders/{encoder}/model.pt``) holds everything needed to rebuild the
model without the training data: the open_clip model config, the weights, the word vocabulary
and the pixel normalisation statistics.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from crossmodal.atomic import atomic_path
from crossmodal.encoders.base import Encoder, MissingWeightsError
from crossmodal.encoders.tokenizer import WordTokenizer
from crossmodal.encoders.toy_model import create_toy_clip
from crossmodal.encoders.toy_training import to_pixels


def save_checkpoint(path: str | Path, name: str, model: torch.nn.Module, model_config: Mapping,
                    tokenizer: WordTokenizer, mean: Sequence[float], std: Sequence[float],
                    extra: Mapping | None = None) -> None:
    """Write the toy encoder checkpoint atomically."""
    state = {"name": name, "model_config": dict(model_config), "state_dict": model.state_dict(),
             "tokenizer": tokenizer.state_dict(), "image_mean": list(mean),
             "image_std": list(std), **(extra or {})}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


class ToyEncoder(Encoder):
    """A toy CLIP loaded from its checkpoint."""

    normalisation = "l2"

    def __init__(self, checkpoint: str | Path):
        super().__init__()
        checkpoint = Path(checkpoint)
        if not checkpoint.exists():
            raise MissingWeightsError(f"{checkpoint}: toy encoder checkpoint not found; train it "
                                      f"with `snakemake {checkpoint}`")
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        with tempfile.TemporaryDirectory() as tmp:
            config_path = Path(tmp) / f"toyworld-{state['name']}.json"
            self.model = create_toy_clip(state["model_config"], config_path)
        self.model.load_state_dict(state["state_dict"])
        self.model.eval()
        self.tokenizer = WordTokenizer.from_state_dict(state["tokenizer"])
        self.mean, self.std = state["image_mean"], state["image_std"]
        self.name = state["name"]
        self.pretrained = str(checkpoint)
        self.dim = int(state["model_config"]["embed_dim"])
        self.image_size = int(state["model_config"]["vision_cfg"]["image_size"])

    def to(self, device):
        super().to(device)
        self.model.to(self.device)
        return self

    def prepare_images(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """Normalised pixels (b, 3, S, S); images of another size are resized (bicubic) to the
        S×S the tower was trained on."""
        size = (self.image_size, self.image_size)
        arrays = [np.asarray(image.convert("RGB") if image.size == size
                             else image.convert("RGB").resize(size, Image.BICUBIC))
                  for image in images]
        return to_pixels(np.stack(arrays), self.mean, self.std)

    def prepare_texts(self, texts: Sequence[str]) -> torch.Tensor:
        return self.tokenizer(list(texts))

    def embed_images(self, batch: torch.Tensor) -> torch.Tensor:
        return self.model.encode_image(batch.to(self.device)).float()

    def embed_texts(self, batch: torch.Tensor) -> torch.Tensor:
        return self.model.encode_text(batch.to(self.device)).float()
