"""A small multi-head CNN that reads toyworld attributes (shape, colour, texture, …) off 32×32
images — the judge of the text-to-image case study (DESIGN §7.3).

Images get the decoder's preprocessing (area-resized to ``image_size``, scaled to [-1, 1]), so the
classifier sees generated samples and real renders alike. Architecture: three stages of two 3×3
convolutions (GroupNorm, SiLU) with 2×2 max-pooling after each, global average pooling, and one
linear head per attribute. Loss: the sum over heads of the cross-entropy. Training adds Gaussian
pixel noise (std ``noise_std`` on the [-1, 1] scale) so the judge tolerates the residual noise of
diffusion samples; every random choice is seeded.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from crossmodal.atomic import atomic_path
from crossmodal.case_studies.decoder import to_unit_range
from crossmodal.store import ArtifactError


def conv_stage(inputs: int, outputs: int) -> torch.nn.Sequential:
    """Two 3×3 conv → GroupNorm(8) → SiLU layers, then 2×2 max-pooling (halves H and W)."""
    layers = []
    for channels_in in (inputs, outputs):
        layers += [torch.nn.Conv2d(channels_in, outputs, 3, padding=1),
                   torch.nn.GroupNorm(8, outputs), torch.nn.SiLU()]
    return torch.nn.Sequential(*layers, torch.nn.MaxPool2d(2))


class AttributeClassifier(torch.nn.Module):
    """CNN trunk (B, 3, S, S) → (B, width·4) features → one logit vector per attribute head.
    ``classes[head]`` lists the class names in logit order."""

    def __init__(self, classes: Mapping[str, list[str]], image_size: int = 32, width: int = 32):
        super().__init__()
        self.classes = {head: list(names) for head, names in classes.items()}
        self.image_size = image_size
        self.width = width
        self.trunk = torch.nn.Sequential(conv_stage(3, width), conv_stage(width, 2 * width),
                                         conv_stage(2 * width, 4 * width),
                                         torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
        self.heads = torch.nn.ModuleDict({head: torch.nn.Linear(4 * width, len(names))
                                          for head, names in self.classes.items()})

    def forward(self, pixels: torch.Tensor) -> dict[str, torch.Tensor]:
        """Logits (B, n_classes[head]) per head for pixels (B, 3, S, S) in [-1, 1]."""
        features = self.trunk(pixels)
        return {head: layer(features) for head, layer in self.heads.items()}


def encode_labels(labels: Mapping[str, np.ndarray]) -> tuple[dict[str, list[str]],
                                                             dict[str, torch.Tensor]]:
    """Per head: the sorted class names and the (N,) class indices of ``labels[head]``."""
    classes, targets = {}, {}
    for head, values in labels.items():
        names, index = np.unique(np.asarray(values).astype(str), return_inverse=True)
        classes[head] = names.tolist()
        targets[head] = torch.from_numpy(index.astype(np.int64))
    return classes, targets


def _check_labels(images, labels: Mapping[str, np.ndarray]) -> None:
    if not labels:
        raise ValueError("train_attribute_classifier: no label heads given")
    for head, values in labels.items():
        if len(values) != len(images):
            raise ValueError(f"train_attribute_classifier: head {head!r} has {len(values)} "
                             f"labels for {len(images)} images")


def train_attribute_classifier(images, labels: Mapping[str, np.ndarray], seed: int = 0,
                               epochs: int = 3, batch_size: int = 128,
                               learning_rate: float = 2e-3, noise_std: float = 0.1,
                               image_size: int = 32, width: int = 32) -> AttributeClassifier:
    """Train on uint8 images (N, H, W, 3) with one (N,) label array per head (any hashable
    values, compared as strings) for ``epochs`` shuffled epochs of AdamW with a cosine-decayed
    learning rate; loss = Σ_heads cross-entropy. Returns the model in eval mode."""
    _check_labels(images, labels)
    classes, targets = encode_labels(labels)
    pixels = to_unit_range(images, image_size)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = AttributeClassifier(classes, image_size, width)
    generator = torch.Generator().manual_seed(seed)
    steps_per_epoch = max(1, -(-len(pixels) // batch_size))
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs * steps_per_epoch)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(pixels), generator=generator)
        for batch in order.split(batch_size):
            noisy = pixels[batch] + noise_std * torch.randn(pixels[batch].shape,
                                                            generator=generator)
            logits = model(noisy)
            loss = sum(F.cross_entropy(logits[h], targets[h][batch]) for h in classes)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
    return model.eval()


@torch.no_grad()
def predict(model: AttributeClassifier, images, batch_size: int = 512) -> dict[str, np.ndarray]:
    """Predicted class name per head for uint8 images (N, H, W, 3): {head: (N,) str array}."""
    model.eval()
    pixels = to_unit_range(images, model.image_size)
    indices = {head: [] for head in model.classes}
    for start in range(0, len(pixels), batch_size):
        logits = model(pixels[start:start + batch_size])
        for head, values in logits.items():
            indices[head].append(values.argmax(dim=1))
    return {head: np.asarray(model.classes[head], dtype=object)[torch.cat(parts).numpy()]
            if parts else np.empty(0, dtype=object) for head, parts in indices.items()}


def accuracy(predictions: Mapping[str, np.ndarray], labels: Mapping[str, np.ndarray]
             ) -> dict[str, float]:
    """Share of rows where the prediction equals the label (as strings), per head."""
    return {head: float(np.mean(np.asarray(predictions[head]).astype(str)
                                == np.asarray(labels[head]).astype(str)))
            for head in predictions}


def save_classifier(path: str | Path, model: AttributeClassifier, extra: dict | None = None
                    ) -> None:
    """Write classes, image size, width, weights and ``extra`` facts atomically."""
    state = {"classes": model.classes, "image_size": model.image_size, "width": model.width,
             "state_dict": model.state_dict(), **(extra or {})}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_classifier(path: str | Path) -> tuple[AttributeClassifier, dict]:
    """The classifier saved at ``path`` (eval mode) and the checkpoint's other facts."""
    path = Path(path)
    if not path.exists():
        raise ArtifactError(f"{path}: attribute classifier not found; run `snakemake {path}`")
    state = torch.load(path, map_location="cpu", weights_only=False)
    model = AttributeClassifier(state["classes"], state["image_size"], state["width"])
    model.load_state_dict(state["state_dict"])
    return model.eval(), {k: v for k, v in state.items() if k != "state_dict"}
