"""Zero-shot classification: each image goes to the class whose prompt-ensemble embedding is
closest in cosine similarity (Radford et al. 2021)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch


def class_embeddings(encode_texts: Callable[[Sequence[str]], torch.Tensor],
                     prompts: Mapping[str, Sequence[str]]) -> tuple[list[str], torch.Tensor]:
    """Class names and their (C, d) unit-norm embeddings: mean of normalised prompt embeddings."""
    names, rows = [], []
    for name, texts in prompts.items():
        embedded = torch.nn.functional.normalize(encode_texts(list(texts)).float(), dim=-1)
        rows.append(torch.nn.functional.normalize(embedded.mean(0), dim=-1))
        names.append(name)
    return names, torch.stack(rows)


def zero_shot_predict(image_embeddings, class_names: Sequence[str],
                      class_matrix: torch.Tensor) -> np.ndarray:
    """Predicted class name per image (array of strings)."""
    images = torch.nn.functional.normalize(torch.as_tensor(image_embeddings).float(), dim=-1)
    best = (images @ class_matrix.T).argmax(1).numpy()
    return np.asarray(class_names)[best]


def zero_shot_accuracy(image_embeddings, labels: Sequence[str], class_names: Sequence[str],
                       class_matrix: torch.Tensor) -> float:
    """Share of images whose predicted class equals ``labels``."""
    predicted = zero_shot_predict(image_embeddings, class_names, class_matrix)
    return float(np.mean(predicted == np.asarray(labels)))
