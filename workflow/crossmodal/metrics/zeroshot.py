"""Zero-shot classification of images from text prompts alone.

Two readouts of the same prompt ensemble ``{class: [prompt, …]}``:

* **mean prompt** (Radford et al. 2021): each class is the normalised mean of its normalised
  prompt embeddings; an image goes to the class of highest cosine similarity.
* **marginal** (used for the encoder table): the contrastive model defines
  p(text | image) ∝ exp(s · cos(image, text)) with its logit scale s; the probability of a class
  is the sum over the prompts that name it, so an image goes to
  argmax_c logsumexp_{p ∈ prompts(c)} s · cos(image, T_p). When the prompts enumerate the whole
  caption space (toyworld's grid), this is the model's own posterior marginal of the class, and
  unlike the mean-prompt readout it does not assume the text embedding is additive across
  concepts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch

EncodeTexts = Callable[[Sequence[str]], torch.Tensor]


def _unit(x) -> torch.Tensor:
    return torch.nn.functional.normalize(torch.as_tensor(x).float(), dim=-1)


def prompt_embeddings(encode_texts: EncodeTexts, prompts: Mapping[str, Sequence[str]]
                      ) -> tuple[list[str], list[torch.Tensor]]:
    """Class names and, per class, its (P_c, d) unit-norm prompt embeddings."""
    return list(prompts), [_unit(encode_texts(list(texts))) for texts in prompts.values()]


def class_embeddings(encode_texts: EncodeTexts, prompts: Mapping[str, Sequence[str]]
                     ) -> tuple[list[str], torch.Tensor]:
    """Class names and their (C, d) mean-prompt embeddings (unit norm)."""
    names, embedded = prompt_embeddings(encode_texts, prompts)
    return names, torch.stack([_unit(e.mean(0)) for e in embedded])


def zero_shot_predict(image_embeddings, class_names: Sequence[str],
                      class_matrix: torch.Tensor) -> np.ndarray:
    """Mean-prompt readout: predicted class name per image."""
    best = (_unit(image_embeddings) @ class_matrix.T).argmax(1).numpy()
    return np.asarray(class_names)[best]


def marginal_predict(image_embeddings, class_names: Sequence[str],
                     prompt_sets: Sequence[torch.Tensor], logit_scale: float) -> np.ndarray:
    """Marginal readout: argmax_c logsumexp_p(logit_scale · cos(image, T_p)) per image."""
    images = _unit(image_embeddings)
    scores = torch.stack([torch.logsumexp(logit_scale * images @ prompts.T, dim=1)
                          for prompts in prompt_sets], dim=1)
    return np.asarray(class_names)[scores.argmax(1).numpy()]


def accuracy(predicted: np.ndarray, labels: Sequence[str]) -> float:
    return float(np.mean(np.asarray(predicted) == np.asarray(labels)))


def zero_shot_accuracy(image_embeddings, labels: Sequence[str], class_names: Sequence[str],
                       class_matrix: torch.Tensor) -> float:
    """Share of images whose mean-prompt prediction equals ``labels``."""
    return accuracy(zero_shot_predict(image_embeddings, class_names, class_matrix), labels)
