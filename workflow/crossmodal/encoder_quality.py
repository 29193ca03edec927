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

import torch

from crossmodal.encoders.base import Encoder
from crossmodal.extract import embed_texts
from crossmodal.metrics.gap import difference_of_means
from crossmodal.metrics.retrieval import recall_at_k
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
) -> dict[str, float | str]:
    """The encoder table row of ``name`` on ``embeddings`` (one split)."""
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
        }
    )
    return row


def paper_reference_row() -> dict[str, float | str]:
    """Paper B table 6, CLIP ViT-B/32 on COCO, for comparison."""
    return {
        "encoder": "paper B table 6: CLIP ViT-B/32 (COCO)",
        "backend": "reference",
        **PAPER_B_CLIP_COCO,
    }
