"""Score every latent of a model (paper A eq. 5) from cached h-embeddings.

For each modality: the model's codes of the split's embeddings (streamed in batches), the top-m
activating rows per latent (by a(z) = |z|, seeded random tie-break; see ``scores``), m seeded
random rows per latent, and EmbSim / WinRate of the h-embeddings of those rows
(``scores.embsim_winrate``); Mono = (EmbSim + WinRate) / 2. ``active_image`` / ``active_text``
count the rows with a(z) > 0. Averages run over the live latents (``live_latents``: active on at
least one row of either modality), as paper A averages over all dimensions: a live latent
silent, or active on fewer than m rows, in one modality is scored there on random-filled top
sets and so counts near chance instead of being dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from crossmodal.dictionaries.base import Dictionary
from crossmodal.modality.mds import activation
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
    seed = settings.seed + seed_offset
    top, active = top_activating(code_batches(model, embeddings, settings.batch_size),
                                 settings.m, seed)
    random = random_samples(len(embeddings), model.n_latents, settings.m, seed)
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


def live_latents(scores: pd.DataFrame) -> pd.Series:
    """(K,) bool: live = a(z) > 0 on at least one scored row of either modality
    (``active_image + active_text > 0``); the others are dead and take no part in any mean."""
    return (scores["active_image"] + scores["active_text"]) > 0


def average_scores(scores: pd.DataFrame, m: int) -> dict[str, float]:
    """Paper A table 4's averages per modality over all live latents: ``{metric}_{modality}``,
    ``latents_{modality}`` (live latents scored, the same for both modalities) and
    ``below_m_{modality}`` (those active on fewer than m rows there, whose top-m set is
    filled by the seeded tie-break)."""
    live = scores[live_latents(scores)]
    out = {}
    for name in MODALITIES:
        for metric in ("embsim", "winrate", "mono"):
            out[f"{metric}_{name}"] = float(live[f"{metric}_{name}"].mean())
        out[f"latents_{name}"] = len(live)
        out[f"below_m_{name}"] = int((live[f"active_{name}"] < m).sum())
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
    """Row indices (s, n) and codes z (s, n) of the n rows of ``embeddings`` (N, d) with the
    largest activation a(z) = |z| for each of the s ``latents`` (largest first)."""
    columns = torch.as_tensor(np.asarray(latents, dtype=np.int64))
    values = torch.cat([codes[:, columns] for codes in code_batches(model, embeddings,
                                                                     batch_size)])
    best = torch.topk(activation(values), min(n, len(values)), dim=0).indices
    return best.T.numpy(), values.gather(0, best).T.numpy()
