"""Paper A's modality dominance score (MDS, eq. 1), its three groups, and the one definition of
how strongly a latent is active.

Activation convention: a latent's activation on a row is a(z) = |z| (``activation``). Paper A
takes |z| for MDS "to avoid cancellation between positive and negative contributions", since
both signs of a dimension can carry the same attribute; the same a(z) ranks a latent's top-m
rows for EmbSim / WinRate (``monosemanticity.scores``), counts its active rows (a(z) > 0) and
scores it against toyworld's concepts (``groundtruth``). For the non-negative codes of the
sparse dictionaries a(z) = z; it matters only for the encoder's own signed dimensions (``raw``).

R(k) = mean over pairs n with a_I[n,k] + a_T[n,k] > 0 of a_I[n,k] / (a_I[n,k] + a_T[n,k])

(pairs where the latent is silent in both modalities carry no information and are skipped).
Groups from the mean μ and standard deviation σ of R over live latents (active on at least one
image or caption row): TextD: R < μ − σ, ImgD: R > μ + σ, CrossD otherwise — except that a
latent never active on images (R = 0: all its activity is on captions) is always TextD and one
never active on captions (R = 1) always ImgD, whatever μ ± σ are (μ − σ < 0 or μ + σ > 1 would
otherwise make such purely unimodal latents CrossD). Latents never active are ``dead``.

``mds_group_problems`` names degenerate groupings (σ = 0, a group empty or with fewer than
``MIN_GROUP_LATENTS`` latents); ``check_mds_groups`` warns about them and returns the flag that
the feature table carries in its ``mds_group_flag`` column.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

MDS_GROUPS = ("ImgD", "CrossD", "TextD")
MIN_GROUP_LATENTS = 3


class MDSGroupingWarning(UserWarning):
    """The MDS grouping of a model is degenerate (an empty or tiny group, or σ = 0)."""


def activation(codes: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
    """a(z) = |z|, same shape and type: how strongly each latent is active on each row."""
    return codes.abs() if isinstance(codes, torch.Tensor) else np.abs(codes)


def mds_terms(image_codes: torch.Tensor, text_codes: torch.Tensor
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-latent (K,) sum of a_I / (a_I + a_T) over the (b, K) paired rows where the
    denominator is non-zero, and the number of such rows — add them up over batches."""
    image, text = activation(image_codes).double(), activation(text_codes).double()
    total = image + text
    active = total > 0
    ratio = torch.where(active, image / torch.where(active, total, 1.0), 0.0)
    return ratio.sum(0), active.sum(0).double()


def mds_from_sums(ratio_sum: np.ndarray, active_pairs: np.ndarray) -> np.ndarray:
    """(K,) R(k) from accumulated :func:`mds_terms`; NaN for latents active on no pair."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(active_pairs > 0, ratio_sum / np.maximum(active_pairs, 1), np.nan)


def mds_groups(mds: np.ndarray) -> np.ndarray:
    """(K,) "ImgD" / "CrossD" / "TextD" by the μ ± σ rule over live latents, R = 0 → TextD and
    R = 1 → ImgD (never active on images / on captions), "dead" for NaN."""
    live = ~np.isnan(mds)
    groups = np.full(mds.shape, "dead", dtype=object)
    if not live.any():
        return groups
    mean, std = mds[live].mean(), mds[live].std()
    groups[live] = "CrossD"
    groups[live & ((mds > mean + std) | (mds == 1.0))] = "ImgD"
    groups[live & ((mds < mean - std) | (mds == 0.0))] = "TextD"
    return groups


def mds_group_problems(mds: np.ndarray, groups: np.ndarray,
                       minimum: int = MIN_GROUP_LATENTS) -> list[str]:
    """Why the grouping of R (K,) into ``groups`` (K,) is degenerate: σ(R) = 0 over live
    latents, no live latent, or a group with fewer than ``minimum`` latents (empty included)."""
    live = ~np.isnan(mds)
    if not live.any():
        return ["no live latent"]
    problems = ["std(R) = 0"] if mds[live].std() == 0 else []
    for group in MDS_GROUPS:
        count = int(np.sum(groups == group))
        if count == 0:
            problems.append(f"{group} empty")
        elif count < minimum:
            problems.append(f"{group} has {count} < {minimum} latents")
    return problems


def check_mds_groups(mds: np.ndarray, groups: np.ndarray) -> str:
    """The grouping's flag: "" when sound, else its problems joined by "; " — and then an
    :class:`MDSGroupingWarning` (which goes to the rule's log)."""
    flag = "; ".join(mds_group_problems(mds, groups))
    if flag:
        warnings.warn(f"MDS grouping is degenerate: {flag}", MDSGroupingWarning, stacklevel=2)
    return flag
