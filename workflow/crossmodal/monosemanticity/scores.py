"""Monosemanticity of single latents from the samples that activate them (paper A §3.1, eq. 5).

For latent k, the m samples with the largest activation z^(k) (``top_activating``) and m random
samples (``random_samples``) are embedded by a model h into unit rows Z₊, Z₋ (m, d'), with
similarities S₊ = Z₊Z₊ᵀ, S₋ = Z₋Z₋ᵀ (m, m). Over the m(m − 1) pairs i ≠ j:

* EmbSim I(z^(k)) = mean (S₊ij − S₋ij) / S₋ij (eq. 5, with a guarded denominator, see
  ``embsim_winrate``);
* WinRate W(z^(k)) = mean 1[S₊ij > S₋ij];
* Mono = (EmbSim + WinRate) / 2 (footnote 4);
* Visual Mono = mean Mono over ImgD − mean over TextD on images, Textual Mono the reverse on
  texts (§3.1.2).

Top-m convention. A latent's top-m rows are ranked by its activation a(z) = |z|, the one
definition in ``crossmodal.modality.mds.activation`` that MDS also uses (for non-negative
dictionary codes a(z) = z; for the encoder's signed raw dimensions both signs count, as in MDS).
Ties — above all the zeros of a latent active on fewer than m rows of a modality — are broken by
a seeded pseudo-random order of the rows, different per latent (``tie_break_priority``), so such
a latent's top set is its active rows filled up with random silent rows and it scores near
chance (WinRate ≈ 1/2, EmbSim ≈ 0) in that modality instead of being dropped; a latent silent
in a modality scores there on m random rows. The tables average over every live latent (active,
a(z) > 0, on at least one row of either modality).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch

from crossmodal.modality.mds import activation

PRIORITY_BITS = 32
PRIORITY_MASK = (1 << PRIORITY_BITS) - 1
HASH_MULTIPLIER = 0x45D9F3B  # odd and < 2³¹: x ↦ x · c mod 2³² is a bijection without overflow
TIE_BREAK_STREAM = 1  # keeps the tie-break draws independent of ``random_samples``' draws
DENOMINATORS = ("pair", "mean")
OWN_AND_OTHER_GROUP = {"image": ("ImgD", "TextD"), "text": ("TextD", "ImgD")}


def tie_break_salts(n_latents: int, seed: int) -> torch.Tensor:
    """(K,) int64 seeded 32-bit salts, one per latent, for ``tie_break_priority``."""
    rng = np.random.default_rng([seed, TIE_BREAK_STREAM])
    return torch.as_tensor(rng.integers(0, 1 << PRIORITY_BITS, size=n_latents, dtype=np.int64))


def tie_break_priority(rows: torch.Tensor, salts: torch.Tensor) -> torch.Tensor:
    """(K, b) int64 in [0, 2³²): a seeded pseudo-random priority of each row (b,) per latent.

    p = h(row ⊕ salt_k), h(x) = the 32-bit integer hash x ← (x ⊕ (x ≫ 16)) · c mod 2³², twice,
    then x ⊕ (x ≫ 16). Every step is a bijection of [0, 2³²), so for each latent distinct rows
    get distinct priorities (no ties left), and different salts give unrelated orders.
    """
    x = (rows[None, :] ^ salts[:, None]) & PRIORITY_MASK
    for _ in range(2):
        x = ((x ^ (x >> 16)) * HASH_MULTIPLIER) & PRIORITY_MASK
    return x ^ (x >> 16)


def _ranking_keys(codes: torch.Tensor, first_row: int, salts: torch.Tensor) -> torch.Tensor:
    """(K, b) unique int64 keys of codes (b, K) whose order is (a(z) descending, then a seeded
    random order of the rows).

    key = bits(a(z)) · 2³² + p(row): a(z) = |z| ≥ 0 is a float32 whose bit pattern, read as an
    int32, sorts like the float; p is ``tie_break_priority``. Codes must not be NaN.
    """
    bits = (activation(codes.float()) + 0.0).T.contiguous().view(torch.int32).long()
    rows = torch.arange(first_row, first_row + codes.shape[0], device=codes.device)
    return (bits << PRIORITY_BITS) + tie_break_priority(rows, salts.to(codes.device))


def _merge_top(best: tuple[torch.Tensor, torch.Tensor], keys: torch.Tensor, rows: torch.Tensor,
               m: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The m largest keys (K, ≤ m) and their rows among the running ``best`` and a new batch."""
    merged_keys = torch.cat([best[0], keys], dim=1)
    merged_rows = torch.cat([best[1], rows.expand_as(keys)], dim=1)
    top = merged_keys.topk(min(m, merged_keys.shape[1]), dim=1)
    return top.values, merged_rows.gather(1, top.indices)


@torch.no_grad()
def top_activating(code_batches: Iterable[torch.Tensor], m: int,
                   seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Each latent's m most-activating rows, streamed over code batches (b, K) in sample order.

    Rows are ranked by a(z) = |z|, ties by the seeded random priority of ``_ranking_keys``.
    Keeps a running (K, m) top set: each batch's keys are merged with it and ``torch.topk``
    keeps the m largest, so no (N, K) matrix is held. Returns ``top`` (K, m) int64 row indices,
    largest activation first, and ``active`` (K,) int64, the number of rows with a(z) > 0.
    Latents with ``active < m`` have seeded random silent rows in their top set.
    """
    if m < 1:
        raise ValueError(f"m must be at least 1, got {m}")
    best, active, salts, n_rows = None, None, None, 0
    for codes in code_batches:
        if best is None:
            salts = tie_break_salts(codes.shape[1], seed)
            empty = torch.empty(codes.shape[1], 0, dtype=torch.long, device=codes.device)
            best, active = (empty, empty), torch.zeros(codes.shape[1], dtype=torch.long)
        elif codes.shape[1] != len(salts):
            raise ValueError(f"code batch has {codes.shape[1]} latents, earlier ones {len(salts)}")
        rows = torch.arange(n_rows, n_rows + codes.shape[0], device=codes.device)
        best = _merge_top(best, _ranking_keys(codes, n_rows, salts), rows[None, :], m)
        active += (codes != 0).sum(0).cpu()
        n_rows += codes.shape[0]
    if n_rows < m:
        raise ValueError(f"top_activating needs at least m = {m} rows, the codes have {n_rows}")
    return best[1].cpu().numpy(), active.numpy()


def random_samples(n_samples: int, n_latents: int, m: int, seed: int) -> np.ndarray:
    """(K, m) int64: per latent m distinct rows of range(n_samples), uniform without replacement.

    Floyd's algorithm vectorised over the K latents: for slot s, j = n − m + s, draw t uniform on
    {0, …, j} and take t unless the latent already holds it, then j. That gives a uniform m-subset
    in O(K m²) (no (K, n) matrix); a seeded shuffle of each row then makes the order uniform too.
    """
    if not 0 < m <= n_samples:
        raise ValueError(f"need 0 < m <= n_samples, got m = {m}, n_samples = {n_samples}")
    rng = np.random.default_rng(seed)
    chosen = np.empty((n_latents, m), dtype=np.int64)
    for slot, largest in enumerate(range(n_samples - m, n_samples)):
        draw = rng.integers(0, largest + 1, size=n_latents)
        taken = (chosen[:, :slot] == draw[:, None]).any(axis=1)
        chosen[:, slot] = np.where(taken, largest, draw)
    return rng.permuted(chosen, axis=1)


def signed_clamp(x: torch.Tensor, epsilon: float) -> torch.Tensor:
    """x moved away from zero to |x| ≥ ε, keeping its sign (x = 0 → +ε); same shape."""
    return torch.where(x >= 0, x.clamp(min=epsilon), x.clamp(max=-epsilon))


def _similarities(embeddings: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """(B, m, m) S = Z Zᵀ per latent, Z = the rows ``indices`` (B, m) of the embeddings (N, d'),
    L2-normalised in float64 (zero rows stay zero)."""
    n_latents, m = indices.shape
    z = embeddings[indices.reshape(-1)].double().reshape(n_latents, m, -1)
    z = z / z.norm(dim=2, keepdim=True).clamp_min(1e-12)
    return torch.bmm(z, z.transpose(1, 2))


def _embsim(s_top: torch.Tensor, s_random: torch.Tensor, epsilon: float,
            denominator: str) -> torch.Tensor:
    """(B,) EmbSim from off-diagonal similarities (B, m(m − 1)); see ``embsim_winrate``."""
    if denominator == "pair":
        return ((s_top - s_random) / signed_clamp(s_random, epsilon)).mean(1)
    return (s_top - s_random).mean(1) / signed_clamp(s_random.mean(1), epsilon)


def _check_samples(top: np.ndarray, random: np.ndarray, epsilon: float, denominator: str) -> None:
    if top.ndim != 2 or top.shape != random.shape:
        raise ValueError(f"top {top.shape} and random {random.shape} must both be (K, m)")
    if top.shape[1] < 2:
        raise ValueError("EmbSim and WinRate need m >= 2 samples per latent (pairs i != j)")
    if denominator not in DENOMINATORS:
        raise ValueError(f"denominator must be one of {DENOMINATORS}, got {denominator!r}")
    if not epsilon > 0:
        raise ValueError(f"epsilon must be positive, got {epsilon}")


@torch.no_grad()
def embsim_winrate(embeddings: np.ndarray | torch.Tensor, top: np.ndarray, random: np.ndarray,
                   epsilon: float = 0.1, denominator: str = "pair",
                   block: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """(K,) EmbSim and (K,) WinRate of paper A eq. 5 for every latent.

    ``embeddings`` (N, d') are the samples' embeddings under h (rows L2-normalised here); ``top``
    and ``random`` (K, m) index its rows. Per latent Z₊ = E[top[k]], Z₋ = E[random[k]] (m, d'),
    S₊ = Z₊Z₊ᵀ, S₋ = Z₋Z₋ᵀ (m, m), and over the m(m − 1) pairs i ≠ j:

    * WinRate = mean 1[S₊ij > S₋ij];
    * EmbSim, ``denominator="pair"`` (eq. 5) = mean (S₊ij − S₋ij) / c(S₋ij);
    * EmbSim, ``denominator="mean"`` (pooled) = Σ(S₊ij − S₋ij) / Σ S₋ij = mean(S₊ − S₋) / mean S₋,
      computed as mean(S₊ − S₋) / c(mean S₋).

    Guard: similarities of random sentence / image embeddings are often close to 0, and eq. 5
    divides by them, so one near-orthogonal random pair can dominate a latent's score. The
    denominator is therefore c(s) = sign(s) · max(|s|, ε) — s moved away from zero to |s| ≥ ε
    with its sign kept (s = 0 → +ε); pairs with |S₋ij| ≥ ε are unchanged. In "mean" mode the
    clamp applies to the mean random similarity. As in eq. 5 itself, a negative denominator
    flips a term's sign: a win over a pair with S₋ij < 0 adds a negative ratio, so pair-mode
    EmbSim is only read as "higher is better" where random similarities are positive; the pooled
    mean S₋ is far less often negative. Latents are processed ``block`` at a time with batched
    matrix products, in float64.
    """
    _check_samples(np.asarray(top), np.asarray(random), epsilon, denominator)
    embeddings = torch.as_tensor(embeddings)
    top, random = torch.as_tensor(top, dtype=torch.long), torch.as_tensor(random, dtype=torch.long)
    off_diagonal = ~torch.eye(top.shape[1], dtype=torch.bool)
    embsim, winrate = np.empty(len(top)), np.empty(len(top))
    for start in range(0, len(top), block):
        chunk = slice(start, start + block)
        s_top = _similarities(embeddings, top[chunk])[:, off_diagonal]
        s_random = _similarities(embeddings, random[chunk])[:, off_diagonal]
        embsim[chunk] = _embsim(s_top, s_random, epsilon, denominator).numpy()
        winrate[chunk] = (s_top > s_random).double().mean(1).numpy()
    return embsim, winrate


def mono(embsim: np.ndarray, winrate: np.ndarray) -> np.ndarray:
    """(K,) Mono = (EmbSim + WinRate) / 2 (paper A footnote 4)."""
    return (np.asarray(embsim, dtype=np.float64) + np.asarray(winrate, dtype=np.float64)) / 2


def modality_mono(score: np.ndarray, groups: np.ndarray, modality: str) -> float:
    """Visual or Textual Mono (paper A §3.1.2) of per-latent scores (K,) and groups (K,).

    ``groups`` holds "ImgD", "TextD", "CrossD" or "dead". On images (``modality="image"``)
    Visual Mono = mean score over ImgD − mean over TextD; on texts Textual Mono = mean over TextD
    − mean over ImgD. NaN if either group is empty.
    """
    if modality not in OWN_AND_OTHER_GROUP:
        raise ValueError(f"modality must be 'image' or 'text', got {modality!r}")
    score, groups = np.asarray(score, dtype=np.float64), np.asarray(groups)
    if score.shape != groups.shape:
        raise ValueError(f"score {score.shape} and groups {groups.shape} differ in shape")
    own, other = (score[groups == name] for name in OWN_AND_OTHER_GROUP[modality])
    if len(own) == 0 or len(other) == 0:
        return float("nan")
    return float(own.mean() - other.mean())
