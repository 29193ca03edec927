"""The interval half-widths behind every verdict, on cases small enough to check by hand."""

import math

import numpy as np
import pytest

from crossmodal.metrics.uncertainty import (
    bootstrap_half_widths,
    format_estimate,
    half_width_from_std,
    interval_column,
    seed_half_width,
)


def test_seed_half_width_is_the_t_interval():
    # values 1, 2, 3: s = 1, n = 3, t_{0.975, 2} = 4.302653 → 4.302653 / √3
    assert seed_half_width([1.0, 2.0, 3.0]) == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    assert half_width_from_std(1.0, 3) == pytest.approx(seed_half_width([1.0, 2.0, 3.0]))


def test_one_replica_has_no_interval():
    assert math.isnan(seed_half_width([0.5]))
    assert math.isnan(half_width_from_std(0.1, 1))


def test_bootstrap_of_a_constant_is_zero_and_of_a_spread_is_positive():
    constant = np.full(50, 0.7)
    spread = np.r_[np.zeros(25), np.ones(25)]
    widths = bootstrap_half_widths(
        lambda i: {"constant": constant[i].mean(), "spread": spread[i].mean()}, 50, 300, seed=1)
    assert widths["constant"] == 0.0
    # mean of 50 Bernoulli(0.5): sd 0.0707, so the 95 % half-width is about 1.96 × 0.0707
    assert widths["spread"] == pytest.approx(0.139, abs=0.03)


def test_bootstrap_is_seeded():
    values = np.random.default_rng(0).normal(size=40)
    run = lambda seed: bootstrap_half_widths(lambda i: {"m": values[i].mean()}, 40, 50, seed)
    assert run(3) == run(3)
    assert run(3) != run(4)


def test_bootstrap_needs_two_items():
    with pytest.raises(ValueError, match="at least 2"):
        bootstrap_half_widths(lambda i: {"m": 0.0}, 1)


def test_interval_column_and_format():
    assert interval_column("success_mean") == "success_mean ±"
    assert format_estimate(0.5123, 0.0211) == "0.512 ± 0.021"
    assert format_estimate(0.5123, float("nan")) == "0.512"


def test_percentile_half_width_by_hand_and_counts_match_the_indices():
    from crossmodal.metrics.uncertainty import (
        bootstrap_counts,
        bootstrap_indices,
        percentile_half_widths,
    )

    # values 0..100: the 5th and 95th percentiles are 5 and 95, half their distance 45
    assert percentile_half_widths({"x": np.arange(101.0)}, level=0.9)["x"] == pytest.approx(45)
    counts = bootstrap_counts(6, 3, seed=2)
    assert (counts[1] == np.bincount(bootstrap_indices(6, 1, 2), minlength=6)).all()
