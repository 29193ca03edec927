"""Training curves: active latents per modality over training (paper A figures 11–12)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from crossmodal.report.plotting import plt, save_figure


def active_curves(log: pd.DataFrame) -> pd.DataFrame:
    """(step, image, text) rows to draw: the window means a_I(w), a_T(w) on each window's last
    step when the log has them, else the per-batch counts."""
    if "window_active_image" in log:
        windows = log.dropna(subset=["window_active_image"])
        return pd.DataFrame({"step": windows["step"], "image": windows["window_active_image"],
                             "text": windows["window_active_text"]})
    return pd.DataFrame({"step": log["step"], "image": log["active_image"],
                         "text": log["active_text"]})


def rule_stop_step(log: pd.DataFrame) -> int | None:
    """The step at which the stopping rule fired, None when it did not."""
    if "rule_fired" not in log or not log["rule_fired"].any():
        return None
    return int(log.loc[log["rule_fired"].astype(bool), "step"].iloc[0])


def plot_active_latents(logs: Mapping[str, pd.DataFrame], path, title: str) -> None:
    """Latents active on a batch's images (solid) and texts (dashed), averaged over each window
    of steps, against the step; one colour per dictionary, a dotted vertical line where its
    stopping rule fired. The y axis is logarithmic so that dictionaries of K = 256 and of
    K = 2048 latents both show their fall and plateau."""
    figure, axes = plt.subplots(figsize=(7.0, 4.2))
    for index, (name, log) in enumerate(logs.items()):
        if log.empty or "active_image" not in log:
            continue
        colour = plt.cm.tab20(index % 20)  # 13 dictionaries in the default run: no repeats
        curves = active_curves(log)
        axes.plot(curves["step"], curves["image"], color=colour, label=f"{name} (images)")
        axes.plot(curves["step"], curves["text"], color=colour, linestyle="--",
                  label=f"{name} (texts)")
        stop = rule_stop_step(log)
        if stop is not None:
            axes.axvline(stop, color=colour, linestyle=":", linewidth=1.0,
                         label=f"{name}: rule fired")
    axes.set_yscale("log")
    axes.set_xlabel("training step")
    axes.set_ylabel("active latents in a batch (window mean)")
    axes.set_title(title)
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize="x-small", ncol=2)
    save_figure(figure, path)
