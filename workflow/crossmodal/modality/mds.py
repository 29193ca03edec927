"""Paper A's modality dominance score (MDS, eq. 1) and its three groups.

R(k) = mean over pairs n with |z_I[n,k]| + |z_T[n,k]| > 0 of |z_I[n,k]| / (|z_I[n,k]| + |z_T[n,k]|)

(pairs where the latent is silent in both modalities carry no information and are skipped;
DESIGN §6). Groups from the mean m and standard deviation s of R over live latents:
TextD: R < m − s, ImgD: R > m + s, CrossD otherwise. Latents never active are ``dead``.
"""

from __future__ import annotations

import numpy as np
import torch

MDS_GROUPS = ("ImgD", "CrossD", "TextD")


def mds_terms(image_codes: torch.Tensor, text_codes: torch.Tensor
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-latent (K,) sum of |z_I| / (|z_I| + |z_T|) over the (b, K) paired rows where the
    denominator is non-zero, and the number of such rows — add them up over batches."""
    image, text = image_codes.abs().double(), text_codes.abs().double()
    total = image + text
    active = total > 0
    ratio = torch.where(active, image / torch.where(active, total, 1.0), 0.0)
    return ratio.sum(0), active.sum(0).double()


def mds_from_sums(ratio_sum: np.ndarray, active_pairs: np.ndarray) -> np.ndarray:
    """(K,) R(k) from accumulated :func:`mds_terms`; NaN for latents active on no pair."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(active_pairs > 0, ratio_sum / np.maximum(active_pairs, 1), np.nan)


def mds_groups(mds: np.ndarray) -> np.ndarray:
    """(K,) "ImgD" / "CrossD" / "TextD" by the mean ± std rule over live latents; "dead" for NaN."""
    live = ~np.isnan(mds)
    groups = np.full(mds.shape, "dead", dtype=object)
    if not live.any():
        return groups
    mean, std = mds[live].mean(), mds[live].std()
    groups[live] = "CrossD"
    groups[live & (mds > mean + std)] = "ImgD"
    groups[live & (mds < mean - std)] = "TextD"
    return groups
