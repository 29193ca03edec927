"""95 % intervals of paper A's monosemanticity tables (tables 4, 5, the ground-truth ranking).

Every number of these tables is a mean over a model's latents of per-latent scores that are
already computed (``scores.parquet``: EmbSim, WinRate, Mono per latent and modality; the feature
table: the best-concept AUC per latent and modality). Their noise is the choice of latents, so
the interval is a seeded bootstrap over the latents (``metrics.uncertainty``): resample the n
latents with replacement B times, recompute every mean of the table row from the same resample
(so EmbSim, WinRate and Mono of one resample are paired and Mono's half-width comes from the
resampled Mono, not from adding half-widths), half-width = (q_{(1+level)/2} − q_{(1−level)/2})/2.
No latent is re-scored. A model with fewer than two latents has NaN half-widths.

``tied_with`` reads the intervals of a ranking: two models are tied when their intervals
[v − h, v + h] overlap, |v_a − v_b| ≤ h_a + h_b.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from crossmodal.metrics.uncertainty import (
    LEVEL,
    RESAMPLES,
    bootstrap_half_widths,
    interval_column,
)
from crossmodal.monosemanticity.scores import modality_mono

DEFAULT_UNCERTAINTY = {"resamples": RESAMPLES, "level": LEVEL}


def settings(uncertainty: Mapping[str, float] | None) -> tuple[int, float]:
    """(resamples, level) of the config block ``uncertainty`` (defaults for missing keys)."""
    merged = {**DEFAULT_UNCERTAINTY, **(uncertainty or {})}
    return int(merged["resamples"]), float(merged["level"])


def latent_bootstrap(statistic: Callable[[np.ndarray], Mapping[str, float]], n_latents: int,
                     names: Sequence[str], uncertainty: Mapping[str, float] | None,
                     seed: int) -> dict[str, float]:
    """``bootstrap_half_widths`` over ``n_latents`` latents; every name NaN when n < 2.
    Empty-slice warnings of a resample missing a group are silenced (its value is NaN and
    ``nanpercentile`` leaves it out)."""
    if n_latents < 2:
        return {name: float("nan") for name in names}
    resamples, level = settings(uncertainty)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return bootstrap_half_widths(statistic, n_latents, resamples, seed, level)


def mean_half_widths(values: pd.DataFrame, uncertainty: Mapping[str, float] | None = None,
                     seed: int = 0) -> dict[str, float]:
    """Half-width of the mean of every column of ``values`` (n latents, c columns), NaN left
    out as ``DataFrame.mean`` does: resample b takes rows i_b (n,) and computes
    nanmean(values[i_b, c]) for every c from the same rows."""
    array, columns = values.to_numpy(dtype=np.float64), list(values.columns)
    return latent_bootstrap(lambda index: dict(zip(columns, np.nanmean(array[index], axis=0),
                                                   strict=True)),
                            len(array), columns, uncertainty, seed)


def modality_mono_half_widths(scores: pd.DataFrame, metrics: Sequence[str] = ("embsim",
                                                                               "winrate", "mono"),
                              uncertainty: Mapping[str, float] | None = None,
                              seed: int = 0) -> dict[str, float]:
    """Half-widths of table 5's ``{visual,textual}_{metric}`` over the latents of ``scores``
    (rows: live latents with ``mds_group`` and ``{metric}_{image,text}``): a resample i_b
    keeps each drawn latent's group, so Visual = mean over drawn ImgD − mean over drawn TextD
    on images (``scores.modality_mono``; NaN, left out, if a group is not drawn)."""
    groups = scores["mds_group"].to_numpy()
    columns = {(kind, metric): scores[f"{metric}_{modality}"].to_numpy(dtype=np.float64)
               for metric in metrics for kind, modality in (("visual", "image"),
                                                            ("textual", "text"))}
    modalities = {"visual": "image", "textual": "text"}

    def statistic(index: np.ndarray) -> dict[str, float]:
        return {f"{kind}_{metric}": modality_mono(score[index], groups[index], modalities[kind])
                for (kind, metric), score in columns.items()}

    names = [f"{kind}_{metric}" for kind, metric in columns]
    return latent_bootstrap(statistic, len(scores), names, uncertainty, seed)


def mono_half_widths(scores: pd.DataFrame, uncertainty: Mapping[str, float] | None = None,
                     seed: int = 0) -> dict[str, float]:
    """Half-widths of a model's ``mono_image``, ``mono_text`` and overall ``mono`` = (image +
    text)/2 over its live latents (rows of ``scores``), all three from one resample of latents."""
    both = pd.DataFrame({"mono_image": scores["mono_image"], "mono_text": scores["mono_text"],
                         "mono": (scores["mono_image"] + scores["mono_text"]) / 2})
    return mean_half_widths(both, uncertainty, seed)


def groundtruth_half_widths(features: pd.DataFrame,
                            uncertainty: Mapping[str, float] | None = None,
                            seed: int = 0) -> dict[str, float]:
    """Half-widths of ``groundtruth.modality_auc_summary``'s means over the latents (rows of the
    feature table, NaN = not scored on that modality, left out): ``groundtruth_auc_image``,
    ``groundtruth_auc_text`` and ``groundtruth_auc`` = their mean, from one resample of rows."""
    image = features["gt_auc_image"].to_numpy(dtype=np.float64)
    text = features["gt_auc_text"].to_numpy(dtype=np.float64)

    def statistic(index: np.ndarray) -> dict[str, float]:
        image_mean, text_mean = np.nanmean(image[index]), np.nanmean(text[index])
        return {"groundtruth_auc_image": image_mean, "groundtruth_auc_text": text_mean,
                "groundtruth_auc": (image_mean + text_mean) / 2}

    names = ["groundtruth_auc_image", "groundtruth_auc_text", "groundtruth_auc"]
    return latent_bootstrap(statistic, len(features), names, uncertainty, seed)


def with_intervals(row: Mapping[str, object], half_widths: Mapping[str, float]) -> dict:
    """``row`` with ``"<c> ±"`` = half_widths[c] inserted right after every column c of
    ``half_widths`` (other columns keep their order)."""
    out = {}
    for column, value in row.items():
        out[column] = value
        if column in half_widths:
            out[interval_column(column)] = half_widths[column]
    return out


def tied_with(labels: Sequence[str], values: Sequence[float],
              half_widths: Sequence[float]) -> list[str]:
    """For each model, the models whose interval overlaps its own, joined by ", " ("" when its
    rank is separated from every other model's): j is tied with i ≠ j when
    |v_i − v_j| ≤ h_i + h_j. A NaN half-width cannot separate anything (tied with every model
    whose value is known); a NaN value is tied with nothing."""
    values = np.asarray(values, dtype=np.float64)
    widths = np.asarray(half_widths, dtype=np.float64)
    gap = np.abs(values[:, None] - values[None, :])
    reach = widths[:, None] + widths[None, :]
    tied = (gap <= reach) | (np.isnan(reach) & ~np.isnan(gap))
    np.fill_diagonal(tied, False)
    return [", ".join(label for label, hit in zip(labels, row, strict=True) if hit)
            for row in tied]
