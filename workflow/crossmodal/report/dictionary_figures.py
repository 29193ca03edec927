"""Figures of the dictionary stage: the β sweep (paper B figures 7–8)."""

from __future__ import annotations

import pandas as pd

from crossmodal.report.plotting import plt, save_figure


def _log_beta_axis(axes, sweep: pd.DataFrame, chosen: float | None):
    positive = sweep[sweep["beta"] > 0]
    axes.set_xscale("log")
    axes.set_xlabel("β (alignment strength)")
    if chosen is not None and chosen > 0:
        axes.axvline(chosen, color="grey", linestyle="--", label=f"chosen β = {chosen:.0e}")
    return positive


def plot_beta_reconstruction(sweep: pd.DataFrame, chosen: float | None, path, title: str):
    """R² and MSE against β (figure 7); β = 0 drawn as horizontal reference lines."""
    figure, axes = plt.subplots(figsize=(6.4, 4.0))
    positive = _log_beta_axis(axes, sweep, chosen)
    baseline = sweep[sweep["beta"] == 0].iloc[0]
    for column, colour in (("r2", "tab:blue"), ("mse", "tab:red")):
        axes.plot(positive["beta"], positive[column], "o-", color=colour, label=column.upper())
        axes.axhline(baseline[column], color=colour, alpha=0.4, linestyle=":",
                     label=f"{column.upper()} at β = 0")
    axes.set_ylabel("value")
    axes.set_title(title)
    axes.legend(fontsize="small")
    save_figure(figure, path)


def plot_beta_energy(sweep: pd.DataFrame, chosen: float | None, path, title: str):
    """Share of energy in bimodal and in degenerate (always-on) latents against β (figure 8)."""
    figure, axes = plt.subplots(figsize=(6.4, 4.0))
    positive = _log_beta_axis(axes, sweep, chosen)
    axes.plot(positive["beta"], positive["bimodal_energy_share"], "o-", label="bimodal latents")
    axes.plot(positive["beta"], positive["degenerate_energy_share"], "s-",
              label="degenerate latents (frequency ≥ 0.99)")
    axes.set_ylabel("share of total energy")
    axes.set_ylim(-0.02, 1.02)
    axes.set_title(title)
    axes.legend(fontsize="small")
    save_figure(figure, path)
