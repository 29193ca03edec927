"""Score every latent of a model (paper A eq. 5) from cached h-embeddings.

For each modality: the model's codes of the split's embeddings (streamed in batches), the top-m
activating rows per latent, m seeded random rows per latent, and EmbSim / WinRate of the
h-embeddings of those rows (``scores.embsim_winrate``); Mono = (EmbSim + WinRate) / 2. Latents
with fewer than m rows where they are positive are scored too but flagged (``active_image`` /
``active_text`` count the rows), so tables can average over the latents that truly fire.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from crossmodal.dictionaries.base import Dictionary
from crossmodal.monosemanticity.scores import (
    embsim_winrate,
    mono,
    random_samples,
    top_activating,
)

MODALITIES = ("image", "text")


@dataclass(frozen=True)
class MonoSettings:
    """Eq. 5's choices: m samples, the EmbSim guard ε and denominator mode, seed, batch."""

    m: int = 20
    epsilon: float = 0.1
    denominator: str = "pair"
    seed: int = 0
    batch_size: int = 4096


@torch.no_grad()
def code_batches(model: Dictionary, embeddings: np.ndarray, batch_size: int):
    """Codes (b, K) of consecutive row batches of ``embeddings`` (N, d), on the CPU."""
    model.eval()
    for start in range(0, len(embeddings), batch_size):
        rows = torch.as_tensor(embeddings[start:start + batch_size], device=model.device)
        yield model.encode(rows).float().cpu()


def score_modality(model: Dictionary, embeddings: np.ndarray, h_embeddings: np.ndarray,
                   settings: MonoSettings, seed_offset: int = 0) -> pd.DataFrame:
    """EmbSim, WinRate, Mono and the active-row count of every latent on one modality:
    ``embeddings`` (N, d) go through the model, ``h_embeddings`` (N, d') are the same rows
    embedded by h."""
    top, active = top_activating(code_batches(model, embeddings, settings.batch_size),
                                 settings.m)
    random = random_samples(len(embeddings), model.n_latents, settings.m,
                            settings.seed + seed_offset)
    embsim, winrate = embsim_winrate(h_embeddings, top, random, settings.epsilon,
                                     settings.denominator)
    return pd.DataFrame({"embsim": embsim, "winrate": winrate, "mono": mono(embsim, winrate),
                         "active": active})


def score_latents(model: Dictionary, image: np.ndarray, text: np.ndarray,
                  h_image: np.ndarray, h_text: np.ndarray, settings: MonoSettings
                  ) -> pd.DataFrame:
    """One row per latent: ``{embsim, winrate, mono, active}_{image, text}``."""
    frames = [score_modality(model, x, h, settings, offset).add_suffix(f"_{name}")
              for offset, (name, x, h) in enumerate((("image", image, h_image),
                                                     ("text", text, h_text)))]
    return pd.concat([pd.DataFrame({"latent": np.arange(model.n_latents)}), *frames], axis=1)


def average_scores(scores: pd.DataFrame, m: int) -> dict[str, float]:
    """Paper A table 4's averages per modality over the latents active on ≥ m rows of it."""
    out = {}
    for name in MODALITIES:
        live = scores[scores[f"active_{name}"] >= m]
        for metric in ("embsim", "winrate", "mono"):
            out[f"{metric}_{name}"] = float(live[f"{metric}_{name}"].mean())
        out[f"latents_{name}"] = len(live)
    return out


def align_rows(pair_ids, source_ids, vectors: np.ndarray, source: str) -> np.ndarray:
    """Rows of ``vectors`` (aligned with ``source_ids``) reordered to ``pair_ids``; one clear
    error naming ``source`` when some pair has no row there."""
    positions = pd.Index(source_ids).get_indexer(pair_ids)
    if (positions < 0).any():
        missing = np.asarray(pair_ids)[positions < 0][:3]
        raise ValueError(f"{source}: no h-embedding for {int((positions < 0).sum())} pairs "
                         f"(first: {list(missing)}); re-run the rule that writes it")
    return vectors[positions]


def top_rows(model: Dictionary, embeddings: np.ndarray, latents: np.ndarray, n: int,
             batch_size: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (s, n) and activations (s, n) of the n most activating rows of ``embeddings``
    (N, d) for each of the s ``latents`` (highest first), streaming over batches."""
    columns = torch.as_tensor(np.asarray(latents, dtype=np.int64))
    values = torch.cat([codes[:, columns] for codes in code_batches(model, embeddings,
                                                                     batch_size)])
    best = torch.topk(values, min(n, len(values)), dim=0)
    return best.indices.T.numpy(), best.values.T.numpy()
