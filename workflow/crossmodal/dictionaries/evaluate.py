"""Reconstruction and per-latent statistics of a trained dictionary, streamed over batches.

Nothing of size (N, K) is held: each batch of pairs is encoded, its contribution to the sums is
added, and the codes are dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from crossmodal.dictionaries.base import Dictionary
from crossmodal.modality.energy import bimodal_energy_share
from crossmodal.modality.features import LatentStatistics
from crossmodal.modality.groundtruth import modality_aucs
from crossmodal.world.concepts import FAMILY_BY_NAME, indicator_families

DEGENERATE_FREQUENCY = 0.99


@dataclass(frozen=True)
class CodeStatistics:
    """Per-latent (K,) energies E[z²] and firing frequencies P(z ≠ 0) of each modality, and the
    reconstruction MSE = E‖x − x̂‖² and per-instance R² (paper B E.2.1) over both modalities."""

    image_energy: np.ndarray
    text_energy: np.ndarray
    image_frequency: np.ndarray
    text_frequency: np.ndarray
    mse: float
    r2: float


@torch.no_grad()
def encode_in_batches(model: Dictionary, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """(N, K) codes of (N, d) embeddings (dense: use for small N only)."""
    device = model.device
    out = [model.encode(torch.as_tensor(x[i:i + batch_size], device=device)).cpu()
           for i in range(0, len(x), batch_size)]
    return torch.cat(out).numpy()


@dataclass(frozen=True)
class ConceptAUCs:
    """Every latent scored against every ground-truth concept on a sample of pairs:
    ``aucs[m]`` (C, K) per modality m (``groundtruth.modality_aucs``), the C concepts with their
    families and modalities, and the sample's (n, K) codes."""

    concepts: list[str]
    families: list[str]
    modalities: list[str]
    aucs: dict[str, np.ndarray]
    image_codes: np.ndarray
    text_codes: np.ndarray


def concept_aucs(model: Dictionary, embeddings, pairs: int, seed: int) -> ConceptAUCs | None:
    """Encode a seeded subsample of ``pairs`` pairs of ``embeddings`` (a ``store.Embeddings``)
    and score each latent against each ``gt_*`` concept column; None without such columns."""
    family_of = indicator_families()
    concepts = [c for c in embeddings.pairs.columns if c in family_of]
    if not concepts:
        return None
    sample = embeddings.subsample(pairs, seed)
    image_codes = encode_in_batches(model, sample.image)
    text_codes = encode_in_batches(model, sample.text)
    families = [family_of[c] for c in concepts]
    modalities = [FAMILY_BY_NAME[family].modality for family in families]
    labels = sample.pairs[concepts].to_numpy(dtype=bool)
    return ConceptAUCs(concepts, families, modalities,
                       modality_aucs(image_codes, text_codes, labels, modalities),
                       image_codes, text_codes)


class CodeCache:
    """The codes of one pass of :func:`paired_codes`, kept sparse so that a later pass over the
    same pairs replays them instead of encoding again (at K = 32768 an encoding pass costs a
    minute on 2 CPU cores; 80,000 codes with 50 non-zeros each take 80 MB). It gives up, and
    later passes encode, as soon as a batch has more than 1/16 non-zeros."""

    MAX_DENSITY = 1 / 16

    def __init__(self):
        self.batches: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.usable, self.complete = True, False

    def add(self, image_codes: torch.Tensor, text_codes: torch.Tensor) -> None:
        if not self.usable:
            return
        if max(int(torch.count_nonzero(c)) for c in (image_codes, text_codes)) > \
                self.MAX_DENSITY * image_codes.numel():
            self.usable, self.batches = False, []
            return
        self.batches.append((image_codes.to_sparse(), text_codes.to_sparse()))

    def finish(self) -> None:
        self.complete = self.usable


@torch.no_grad()
def paired_codes(model: Dictionary, image: np.ndarray, text: np.ndarray, batch_size: int = 4096,
                 cache: CodeCache | None = None
                 ) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Yield ``(image_x, text_x, image_codes, text_codes)`` for consecutive batches of pairs
    (tensors on the model's device; codes (b, K)), with the model in eval mode. With a
    ``cache``, the first full pass fills it and later passes (same pairs, same batch size)
    replay its codes."""
    model.eval()
    device = model.device
    replay = cache is not None and cache.complete
    for index, start in enumerate(range(0, len(image), batch_size)):
        image_x = torch.as_tensor(image[start:start + batch_size], device=device)
        text_x = torch.as_tensor(text[start:start + batch_size], device=device)
        if replay:
            image_codes, text_codes = (codes.to_dense() for codes in cache.batches[index])
        else:
            image_codes, text_codes = model.encode(image_x), model.encode(text_x)
            if cache is not None:
                cache.add(image_codes, text_codes)
        yield image_x, text_x, image_codes, text_codes
    if cache is not None and not replay:
        cache.finish()


@torch.no_grad()
def code_statistics(model: Dictionary, image: np.ndarray, text: np.ndarray,
                    batch_size: int = 4096, cache: CodeCache | None = None) -> CodeStatistics:
    """Stream (N, d) paired embeddings through ``model`` and return its :class:`CodeStatistics`;
    x̄ for R² is the mean of all 2N rows; ``cache`` (:func:`paired_codes`) keeps the codes."""
    device = model.device
    mean = torch.as_tensor((image.mean(0) + text.mean(0)) / 2, device=device)
    latents = LatentStatistics(model.n_latents, device, with_mds=False)
    residual_total, r2_total = 0.0, 0.0
    for image_x, text_x, image_codes, text_codes in paired_codes(model, image, text, batch_size,
                                                                  cache):
        latents.add(image_codes, text_codes)
        if model.has_decoder:
            for x, codes in ((image_x, image_codes), (text_x, text_codes)):
                residual = (x - model.decode(codes)).double().square().sum(-1)
                spread = (x - mean).double().square().sum(-1).clamp_min(1e-12)
                residual_total += float(residual.sum())
                r2_total += float((1 - residual / spread).sum())
    rows = len(image) + len(text)
    return CodeStatistics(
        image_energy=latents.image_energy, text_energy=latents.text_energy,
        image_frequency=latents.image_frequency, text_frequency=latents.text_frequency,
        mse=residual_total / rows if model.has_decoder else float("nan"),
        r2=r2_total / rows if model.has_decoder else float("nan"),
    )


def energy_shares(statistics: CodeStatistics, tau: float = 0.05) -> dict[str, float]:
    """Share of the total energy E = (E_img + E_txt)/2 held by bimodal latents (τ ≤ μ ≤ 1−τ) and by
    degenerate ones (active on ≥ 99 % of the samples of both modalities; paper B figure 8)."""
    total = (statistics.image_energy + statistics.text_energy) / 2
    degenerate = ((statistics.image_frequency >= DEGENERATE_FREQUENCY)
                  & (statistics.text_frequency >= DEGENERATE_FREQUENCY))
    return {"bimodal_energy_share": bimodal_energy_share(statistics.image_energy,
                                                         statistics.text_energy, tau),
            "degenerate_energy_share": float(total[degenerate].sum() / max(total.sum(), 1e-12))}
