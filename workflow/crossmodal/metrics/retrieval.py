"""Cross-modal retrieval: recall@k within random batches.

recall@k is computed inside seeded random batches of ``batch_size`` pairs (256 by default, as
paper B does): for each image the rank of its own caption among the batch's captions, and the
reverse; the score is the mean over both directions of the share of queries ranked < k.
"""

from __future__ import annotations

import numpy as np
import torch


def _normalise(x: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.normalize(x.float(), dim=-1)


def batch_indices(n: int, batch_size: int, seed: int) -> list[np.ndarray]:
    """A seeded permutation of ``range(n)`` cut into full batches (one batch if n < batch_size)."""
    order = np.random.default_rng(seed).permutation(n)
    if n < batch_size:
        return [order]
    return [order[i:i + batch_size] for i in range(0, n - batch_size + 1, batch_size)]


def correct_ranks(queries: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Rank (0 = best) of target i among all targets for query i, by cosine similarity.
    ``queries``, ``targets``: (b, d) paired rows. Ties count against the query."""
    similarity = _normalise(queries) @ _normalise(targets).T
    own = similarity.diagonal().unsqueeze(1)
    return (similarity >= own).sum(1) - 1


def recall_at_k(images, texts, ks=(1, 5), batch_size: int = 256, seed: int = 0
                ) -> dict[int, float]:
    """``{k: recall@k}`` averaged over image→text and text→image, within random batches."""
    images, texts = torch.as_tensor(images), torch.as_tensor(texts)
    hits = {k: [] for k in ks}
    for index in batch_indices(len(images), batch_size, seed):
        idx = torch.from_numpy(index)
        for queries, targets in ((images[idx], texts[idx]), (texts[idx], images[idx])):
            ranks = correct_ranks(queries, targets)
            for k in ks:
                hits[k].append((ranks < k).float())
    return {k: torch.cat(v).mean().item() for k, v in hits.items()}


def pair_hits(images, texts, k: int = 1, batch_size: int = 256, seed: int = 0) -> np.ndarray:
    """(N,) per pair i: (hit(image_i → text_i) + hit(text_i → image_i)) / 2 with hit = its rank
    within its batch < k (the batches of :func:`recall_at_k`), so 0, 0.5 or 1; NaN for pairs in
    no batch (the dropped tail). Its NaN-mean is ``recall_at_k(..., ks=(k,))[k]``: every batched
    pair is a query once in each direction. Bootstrap resamples of the pairs reuse it."""
    images, texts = torch.as_tensor(images), torch.as_tensor(texts)
    hits = np.full(len(images), np.nan)
    for index in batch_indices(len(images), batch_size, seed):
        idx = torch.from_numpy(index)
        forward = correct_ranks(images[idx], texts[idx]) < k
        backward = correct_ranks(texts[idx], images[idx]) < k
        hits[index] = (forward.double() + backward.double()).numpy() / 2
    return hits
