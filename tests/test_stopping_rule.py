"""Paper A's stopping rule on active-latent counts, its learning-rate plan, and how training and the
active-latents figure use them."""

import numpy as np
import pandas as pd
import pytest
import torch

from crossmodal.dictionaries import build_dictionary
from crossmodal.dictionaries.settings import training_settings
from crossmodal.dictionaries.stopping import (
    ActiveLatentStopping,
    PlateauSchedule,
    WindowMeans,
    plateau_lr,
)
from crossmodal.dictionaries.trainer import DictionaryTraining, train_dictionary
from crossmodal.report.training_figures import active_curves, plot_active_latents, rule_stop_step

N_LATENTS = 256  # tolerance 0.01 → flat means within 2.56 latents of the anchor


def first_stop(counts, patience=3, tolerance=0.01):
    """Index of the window at which the rule first says stop (None if never)."""
    rule = ActiveLatentStopping(N_LATENTS, patience, tolerance)
    for index, (image, text) in enumerate(counts):
        if rule.update(image, text):
            return index
    return None


def falling_then_flat(falling=5, flat=10, image_plateau=100.0, text_plateau=80.0):
    """Windows 0..falling−1 fall by 20 latents each, then the counts stay at the plateau."""
    image = [image_plateau + 20 * (falling - w) for w in range(falling)] + [image_plateau] * flat
    text = [text_plateau + 20 * (falling - w) for w in range(falling)] + [text_plateau] * flat
    return list(zip(image, text, strict=True))


@pytest.mark.parametrize("falling", [0, 1, 5, 9])
@pytest.mark.parametrize("patience", [1, 3])
def test_rule_stops_exactly_patience_windows_into_the_plateau(falling, patience):
    """The plateau's first window (index ``falling``) is the anchor; the rule fires on the
    ``patience``-th flat window after it and not before."""
    assert first_stop(falling_then_flat(falling), patience) == falling + patience


def test_rule_honours_the_tolerance_as_a_share_of_the_latents():
    plateau = falling_then_flat(falling=4, flat=1)
    within = plateau + [(102.0, 78.0), (98.0, 82.0), (101.5, 80.0)]  # |Δ| ≤ 2 ≤ 2.56
    beyond = plateau + [(103.0, 80.0), (100.0, 80.0), (103.0, 80.0), (100.0, 80.0)]  # 3 > 2.56
    assert first_stop(within) == 7
    assert first_stop(beyond) is None
    assert first_stop(beyond, tolerance=0.012) == 7  # 0.012 · 256 = 3.07 ≥ 3


def test_rule_waits_for_both_modalities_and_resets_on_a_rise():
    text_still_falling = [(100.0, 200.0 - 10 * w) for w in range(10)]
    assert first_stop(text_still_falling) is None
    rising_then_flat = [(100.0 + 10 * w, 90.0) for w in range(4)] + [(130.0, 90.0)] * 4
    assert first_stop(rising_then_flat) == 6  # anchor at window 3 (130), flat 4, 5, 6


def test_slow_drift_below_the_tolerance_per_window_still_counts_against_the_anchor():
    """One latent per window: flat against the anchor for two windows, the third is 3 > 2.56
    away and becomes the new anchor, so patience 3 never fires but patience 2 does."""
    drift = [(100.0 - w, 80.0) for w in range(12)]
    assert first_stop(drift, patience=3) is None
    assert first_stop(drift, patience=2) == 2


def test_rule_rejects_bad_settings():
    with pytest.raises(ValueError, match="patience"):
        ActiveLatentStopping(N_LATENTS, 0, 0.01)
    with pytest.raises(ValueError, match="tolerance"):
        ActiveLatentStopping(N_LATENTS, 2, -0.1)
    with pytest.raises(ValueError, match="decay_steps"):
        PlateauSchedule(1.0, warmup_steps=2, decay_steps=30, max_steps=20)


def test_window_means_by_hand():
    windows = WindowMeans(3)
    assert windows.add(10, 1) is None and windows.add(20, 2) is None
    assert windows.add(30, 6) == (20.0, 3.0)
    assert windows.add(7, 5) is None
    assert windows.flush() == (7.0, 5.0) and windows.flush() is None


def test_plateau_lr_by_hand():
    """peak 1, warm-up 4, decay from step 10 over 5 steps."""
    lrs = [plateau_lr(t, 1.0, 4, 10, 5) for t in range(17)]
    assert lrs[:4] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert lrs[4:11] == pytest.approx([1.0] * 7)
    assert lrs[10:17] == pytest.approx([1.0, 0.8, 0.6, 0.4, 0.2, 0.0, 0.0])


def test_schedule_decays_before_the_limit_or_when_the_rule_fires():
    schedule = PlateauSchedule(2.0, warmup_steps=3, decay_steps=4, max_steps=20)
    assert (schedule.decay_start, schedule.end) == (16, 20)
    assert schedule.lr(20) == 0.0 and schedule.lr(15) == 2.0
    schedule.begin_decay(9)
    assert (schedule.decay_start, schedule.end) == (9, 13)
    schedule.begin_decay(12)  # a later request never postpones the decay
    assert schedule.end == 13
    assert [schedule.phase(t) for t in (0, 2, 3, 8, 9, 12)] == [
        "warmup", "warmup", "constant", "constant", "decay", "decay"]
    assert np.diff([schedule.lr(t) for t in range(9, 14)]) == pytest.approx([-0.5] * 4)


def _saturating_pairs(n=1024, d=16, seed=0):
    """Paired (n, d) data on which a 16-latent TopK (k = 4) fires every latent in every batch of
    32: the window counts are 16 from the start, so the rule's timing is known exactly."""
    rng = np.random.default_rng(seed)
    atoms = rng.normal(size=(24, d))
    codes = (rng.random((n, 24)) < 0.15) * rng.uniform(0.5, 1.5, (n, 24))
    image = (codes @ atoms).astype(np.float32)
    return image, (image + 0.1 * rng.normal(size=image.shape)).astype(np.float32)


def _train_tiny_topk(**settings) -> pd.DataFrame:
    image, text = _saturating_pairs()
    model = build_dictionary({"architecture": "multimodal_topk", "expansion": 1, "k": 4}, d=16)
    config = DictionaryTraining(batch_size=32, lr=3e-3, window_steps=8, **settings)
    return train_dictionary(model, image, text, config)


def test_training_with_the_rule_stops_on_the_plateau_and_anneals():
    """32 steps an epoch, W = 8, warm-up one window: window 0 is warm-up, window 1 the anchor,
    windows 2 and 3 flat → the rule fires on step 4 · 8 − 1 = 31; 16 decay steps follow."""
    log = _train_tiny_topk(epochs=40, stop_when_active_stable=True, patience=2, tolerance=0.05,
                           decay_steps=16)
    for column in ("window", "window_active_image", "window_active_text", "phase", "rule_fired"):
        assert column in log
    assert log.index[log["rule_fired"]].tolist() == [31]
    assert len(log) == 48 and log["epoch"].max() == 1
    assert log["phase"].tolist() == ["warmup"] * 8 + ["constant"] * 24 + ["decay"] * 16
    assert log["lr"].iloc[-1] == 0.0 and log["lr"].max() == pytest.approx(3e-3)
    # the logged lr is the rate after the step: 3e-3 · (16 − j) / 16 after decay step j
    assert log["lr"].iloc[32:].to_numpy() == pytest.approx(3e-3 * np.arange(15, -1, -1) / 16)
    window_rows = log.dropna(subset=["window_active_image"])
    assert window_rows["step"].tolist() == [7, 15, 23, 31, 39, 47]
    by_window = log.groupby("window")["active_image"].mean()
    assert window_rows["window_active_image"].to_numpy() == pytest.approx(by_window.to_numpy())


def test_a_run_that_reaches_its_epoch_limit_has_annealed_too():
    log = _train_tiny_topk(epochs=2, stop_when_active_stable=True, patience=50, decay_steps=16)
    assert len(log) == 64 and not log["rule_fired"].any()
    assert (log["phase"].iloc[48:] == "decay").all() and (log["phase"].iloc[:48] != "decay").all()
    assert log["lr"].iloc[-1] == 0.0


def test_without_the_rule_the_schedule_is_the_one_cycle_over_all_epochs():
    log = _train_tiny_topk(epochs=2)
    optimizer = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=3e-3)
    one_cycle = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=64)
    expected = []
    for _ in range(64):
        optimizer.step()
        one_cycle.step()
        expected.append(one_cycle.get_last_lr()[0])
    assert len(log) == 64 and (log["phase"] == "one_cycle").all()
    assert not log["rule_fired"].any()
    assert log["lr"].tolist() == expected


def test_ncl_gets_the_rule_from_its_codes():
    image, text = _saturating_pairs()
    model = build_dictionary({"architecture": "ncl", "expansion": 1}, d=16)
    config = DictionaryTraining(epochs=40, batch_size=32, window_steps=8, decay_steps=8,
                                stop_when_active_stable=True, patience=2, tolerance=0.5)
    log = train_dictionary(model, image, text, config)
    fired = log.index[log["rule_fired"]].tolist()
    assert len(fired) == 1 and len(log) == fired[0] + 1 + 8 < 40 * 32
    assert log["lr"].iloc[-1] == 0.0


def test_settings_carry_the_rule_keys_from_the_dictionary_block():
    spec = {"stop_when_active_stable": True, "patience": 4, "tolerance": 0.02,
            "window_steps": 50, "decay_steps": 25}
    settings = training_settings({"epochs": 5}, spec, beta=0.0, seed=0, device="cpu")
    assert (settings.patience, settings.tolerance, settings.window_steps,
            settings.decay_steps, settings.warmup_steps) == (4, 0.02, 50, 25, None)
    with pytest.raises(ValueError, match="window_steps"):
        DictionaryTraining(window_steps=0)


def test_figure_draws_the_window_means_and_the_stop(tmp_path):
    log = pd.DataFrame({"step": range(6), "active_image": [9, 7, 5, 5, 4, 4],
                        "active_text": [8, 8, 6, 6, 5, 5],
                        "window_active_image": [np.nan, 8.0, np.nan, 5.0, np.nan, 4.0],
                        "window_active_text": [np.nan, 8.0, np.nan, 6.0, np.nan, 5.0],
                        "rule_fired": [False, False, False, True, False, False]})
    curves = active_curves(log)
    assert curves["step"].tolist() == [1, 3, 5] and curves["text"].tolist() == [8.0, 6.0, 5.0]
    assert rule_stop_step(log) == 3
    assert rule_stop_step(log.assign(rule_fired=False)) is None
    plot_active_latents({"toyclip/mm_topk": log}, tmp_path / "active_latents.png", "active")
    assert (tmp_path / "active_latents.png").stat().st_size > 0
