"""Uncertainty of the numbers a verdict reads: the half-width of a 95 % interval.

Two sources, whichever the run has:

* **seed replicas** (a dictionary retrained with ``stability_seeds``, a case study repeated over
  ``seeds`` or ``runs``): the Student-t interval of the mean of n values,
  half-width = t_{(1+level)/2, n−1} · s / √n, with s the sample standard deviation (ddof 1);
* a **seeded bootstrap over evaluation items** (pairs, images, latents) otherwise: resample the
  n items with replacement B times, recompute the statistic (never retrain), and take half the
  width of the percentile interval, (q_{(1+level)/2} − q_{(1−level)/2}) / 2.

A table stores the half-width of column ``C`` in the column ``C ±`` (:func:`interval_column`),
beside the number it qualifies; the verdicts read both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from scipy import stats

LEVEL = 0.95
RESAMPLES = 200
SUFFIX = " ±"


def interval_column(column: str) -> str:
    """The name of the column holding ``column``'s half-width: ``"<column> ±"``."""
    return f"{column}{SUFFIX}"


def is_interval_column(column: str) -> bool:
    return str(column).endswith(SUFFIX)


def seed_half_width(values, level: float = LEVEL) -> float:
    """Half-width of the t-interval of the mean of seed replicas ``values`` (1-D); NaN when
    fewer than two replicas exist (no spread to estimate)."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if values.size < 2:
        return float("nan")
    t = stats.t.ppf((1 + level) / 2, values.size - 1)
    return float(t * values.std(ddof=1) / np.sqrt(values.size))


def half_width_from_std(std: float, n: int, level: float = LEVEL) -> float:
    """:func:`seed_half_width` from a sample standard deviation ``std`` (ddof 1) of ``n``
    replicas, for tables that store only the std and the count."""
    if n < 2 or std is None or np.isnan(std):
        return float("nan")
    return float(stats.t.ppf((1 + level) / 2, n - 1) * std / np.sqrt(n))


def bootstrap_indices(n_items: int, resample: int, seed: int) -> np.ndarray:
    """The item indices of bootstrap resample ``resample``: ``n_items`` draws with replacement
    from ``default_rng([seed, resample])``, so adding resamples keeps the first ones."""
    return np.random.default_rng([seed, resample]).integers(0, n_items, n_items)


def bootstrap_counts(n_items: int, resamples: int, seed: int) -> np.ndarray:
    """(resamples, n_items) int: how often each resample draws each item — the resamples of
    :func:`bootstrap_half_widths` as weights, for statistics evaluated as matrix products."""
    return np.stack([np.bincount(bootstrap_indices(n_items, b, seed), minlength=n_items)
                     for b in range(resamples)])


def percentile_half_widths(draws: Mapping[object, np.ndarray], level: float = LEVEL
                           ) -> dict[object, float]:
    """Half the width of the percentile interval of each statistic's resampled values
    ``draws[name]`` (B,): (q_{(1+level)/2} − q_{(1−level)/2}) / 2, NaN values left out."""
    low, high = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    return {name: float((np.nanpercentile(v, high) - np.nanpercentile(v, low)) / 2)
            for name, v in draws.items()}


def bootstrap_half_widths(
    statistic: Callable[[np.ndarray], Mapping[str, float]],
    n_items: int,
    resamples: int = RESAMPLES,
    seed: int = 0,
    level: float = LEVEL,
) -> dict[str, float]:
    """Half-widths of the percentile bootstrap intervals of every number ``statistic`` returns.

    ``statistic(index)`` gets an int array of ``n_items`` indices drawn with replacement
    (:func:`bootstrap_indices`) and returns ``{name: value}``; calling it with
    ``np.arange(n_items)`` gives the point estimate. Several numbers computed from one resample
    share it, so a difference of two of them is a paired comparison. The same seed gives the
    same intervals.
    """
    if n_items < 2:
        raise ValueError(f"a bootstrap needs at least 2 items, got {n_items}")
    draws: dict[str, list[float]] = {}
    for b in range(resamples):
        for name, value in statistic(bootstrap_indices(n_items, b, seed)).items():
            draws.setdefault(name, []).append(float(value))
    return percentile_half_widths({name: np.asarray(v) for name, v in draws.items()}, level)


def format_estimate(value: float, half_width: float, digits: int = 3) -> str:
    """``"0.512 ± 0.021"`` (``"0.512"`` when the half-width is NaN)."""
    if half_width is None or np.isnan(half_width):
        return f"{value:.{digits}g}"
    return f"{value:.{digits}g} ± {half_width:.2g}"
