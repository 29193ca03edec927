"""One row of the encoder table: zero-shot accuracy per bimodal family, recall@k and the gap.

Zero-shot uses toyworld's prompt ensembles (``world.prompts``, the whole caption grid of each
class) read out two ways (``metrics.zeroshot``): ``zero_shot_<family>`` marginalises the model's
own p(caption | image) over the captions naming the class; ``mean_prompt_<family>`` is Radford
et al.'s mean-embedding ensemble. Other datasets get recall and gap only until their own class
prompts exist. Reference numbers are paper B table 6 (CLIP
ViT-B/32 on COCO), the closest real analogue of toyworld's test split.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from crossmodal.encoders.base import Encoder
from crossmodal.extract import embed_texts
from crossmodal.metrics.gap import difference_of_means
from crossmodal.metrics.retrieval import recall_at_k
from crossmodal.metrics.uncertainty import LEVEL, RESAMPLES, bootstrap_half_widths, interval_column
from crossmodal.metrics.zeroshot import (
    accuracy,
    marginal_predict,
    prompt_embeddings,
    zero_shot_predict,
)
from crossmodal.store import Embeddings
from crossmodal.world.prompts import ZERO_SHOT_FAMILIES, class_prompts

PAPER_B_CLIP_COCO = {"recall@1": 0.71, "recall@5": 0.95, "gap_dim": 0.82}


def toyworld_zero_shot(
    encoder: Encoder,
    embeddings: Embeddings,
    logit_scale: float,
    families: Sequence[str] = ZERO_SHOT_FAMILIES,
) -> dict[str, float]:
    """``zero_shot_<family>`` (marginal) and ``mean_prompt_<family>`` accuracies over the pairs
    where the family is present."""
    out = {}
    for family in families:
        names, prompt_sets = prompt_embeddings(
            lambda texts: torch.from_numpy(embed_texts(encoder, texts)), class_prompts(family)
        )
        labels = embeddings.pairs[family].to_numpy()
        present = labels != "none"
        images = embeddings.image[present]
        means = torch.stack([torch.nn.functional.normalize(p.mean(0), dim=0) for p in prompt_sets])
        out[f"zero_shot_{family}"] = accuracy(
            marginal_predict(images, names, prompt_sets, logit_scale), labels[present]
        )
        out[f"mean_prompt_{family}"] = accuracy(
            zero_shot_predict(images, names, means), labels[present]
        )
    return out


def encoder_row(
    name: str,
    encoder: Encoder | None,
    embeddings: Embeddings,
    toyworld: bool,
    recall_batch_size: int,
    seed: int,
    resamples: int = RESAMPLES,
    level: float = LEVEL,
) -> dict[str, float | str]:
    """The encoder table row of ``name`` on ``embeddings`` (one split); ``gap_dim ±`` is the
    half-width of DiM's bootstrap interval (``resamples``, ``level``)."""
    recall = recall_at_k(
        embeddings.image, embeddings.text, ks=(1, 5), batch_size=recall_batch_size, seed=seed
    )
    row: dict[str, float | str] = {
        "encoder": name,
        "backend": embeddings.metadata.get("backend", ""),
        "dim": int(embeddings.image.shape[1]),
        "n_pairs": len(embeddings.image),
    }
    if toyworld and encoder is not None:
        row.update(toyworld_zero_shot(encoder, embeddings, encoder.logit_scale))
    row.update(
        {
            "recall@1": recall[1],
            "recall@5": recall[5],
            "gap_dim": difference_of_means(embeddings.image, embeddings.text),
            interval_column("gap_dim"): gap_half_width(
                embeddings.image, embeddings.text, seed, resamples, level),
        }
    )
    return row


def gap_half_width(image: np.ndarray, text: np.ndarray, seed: int,
                   resamples: int = RESAMPLES, level: float = LEVEL) -> float:
    """Half-width of the 95 % bootstrap interval of DiM = ‖mean image − mean text‖ over the
    (N, d) pairs (a pair's image and caption resampled together)."""
    difference = np.asarray(image, dtype=np.float64) - np.asarray(text, dtype=np.float64)
    return bootstrap_half_widths(
        lambda index: {"dim": float(np.linalg.norm(difference[index].mean(0)))},
        len(difference), resamples, seed, level)["dim"]


def paper_reference_row() -> dict[str, float | str]:
    """Paper B table 6, CLIP ViT-B/32 on COCO, for comparison."""
    return {
        "encoder": "paper B table 6: CLIP ViT-B/32 (COCO)",
        "backend": "reference",
        **PAPER_B_CLIP_COCO,
    }
