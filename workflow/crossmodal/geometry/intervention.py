"""δ_r@1: how much retrieval recall is lost when only bimodal latents are kept (paper B E.2.2
"Intervention").

For embeddings A (N, d) of each modality, codes Z = encode(A) (N, K) and the bimodal mask
δ ∈ {0, 1}^K broadcast over rows:

    Â = decode(Z)        (N, d)  the dictionary's own reconstruction, decoder bias included;
    Ã = decode(Z ⊙ δ)    (N, d)  the reconstruction from bimodal latents only (same bias);
    δ_r@1 = recall@1(Â_I, Â_T) − recall@1(Ã_I, Ã_T),

recall@1 within seeded random batches of 256 pairs, both directions (metrics/retrieval.py).
Rows go through ``model.encode``/``model.decode`` in batches; only the (N, d) reconstructions are
kept, never the (N, K) codes.
"""

from __future__ import annotations

import numpy as np
import torch

from crossmodal.dictionaries.base import Dictionary
from crossmodal.metrics.retrieval import recall_at_k

RECALL_BATCH = 256


@torch.no_grad()
def reconstructions(model: Dictionary, embeddings: np.ndarray, keep: np.ndarray,
                    batch_size: int = 4096) -> tuple[torch.Tensor, torch.Tensor]:
    """Â = decode(Z) and Ã = decode(Z ⊙ keep) (N, d) of ``embeddings`` (N, d), on the CPU;
    ``keep`` (K,) is the boolean mask of latents to keep."""
    device = model.device
    mask = torch.as_tensor(np.asarray(keep), device=device)
    full, ablated = [], []
    for start in range(0, len(embeddings), batch_size):
        codes = model.encode(torch.as_tensor(embeddings[start:start + batch_size], device=device))
        for out, reconstruction in zip((full, ablated), decode_with_and_without(model, codes, mask)):
            out.append(reconstruction.cpu())
    return torch.cat(full), torch.cat(ablated)


def decode_with_and_without(model: Dictionary, codes: torch.Tensor, keep: torch.Tensor
                            ) -> tuple[torch.Tensor, torch.Tensor]:
    """decode(Z) and decode(Z ⊙ keep) (b, d) of codes Z (b, K); ``keep`` (K,) boolean."""
    return model.decode(codes), model.decode(codes * keep.to(codes.dtype))


def recalls_of(full_image, full_text, ablated_image, ablated_text, seed: int = 0
               ) -> tuple[float, float]:
    """recall@1(Â_I, Â_T) and recall@1(Ã_I, Ã_T) from the four reconstructions (N, d)."""
    def recall(image, text) -> float:
        return recall_at_k(image, text, ks=(1,), batch_size=RECALL_BATCH, seed=seed)[1]
    return recall(full_image, full_text), recall(ablated_image, ablated_text)


def recall_drop_of(full_image, full_text, ablated_image, ablated_text, seed: int = 0) -> float:
    """recall@1(Â_I, Â_T) − recall@1(Ã_I, Ã_T) from the four reconstructions (N, d)."""
    full, bimodal_only = recalls_of(full_image, full_text, ablated_image, ablated_text, seed)
    return full - bimodal_only


def recall_drop(model: Dictionary, image: np.ndarray, text: np.ndarray, bimodal: np.ndarray,
                batch_size: int = 4096, seed: int = 0) -> float:
    """δ_r@1 of ``model`` on paired embeddings image, text (N, d), keeping the latents of the
    boolean mask ``bimodal`` (K,)."""
    model.eval()
    full_image, ablated_image = reconstructions(model, image, bimodal, batch_size)
    full_text, ablated_text = reconstructions(model, text, bimodal, batch_size)
    return recall_drop_of(full_image, full_text, ablated_image, ablated_text, seed)
