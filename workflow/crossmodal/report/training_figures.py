"""Training curves: active latents per modality over training (paper A figures 11–12)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from crossmodal.report.plotting import plt, save_figure


def plot_active_latents(logs: Mapping[str, pd.DataFrame], path, title: str) -> None:
    """Latents active on a batch's images (solid) and texts (dashed) against the step, one colour
    per dictionary."""
    figure, axes = plt.subplots(figsize=(7.0, 4.2))
    for index, (name, log) in enumerate(logs.items()):
        if log.empty or "active_image" not in log:
            continue
        colour = f"C{index % 10}"
        axes.plot(log["step"], log["active_image"], color=colour, label=f"{name} (images)")
        axes.plot(log["step"], log["active_text"], color=colour, linestyle="--",
                  label=f"{name} (texts)")
    axes.set_xlabel("training step")
    axes.set_ylabel("active latents in the batch")
    axes.set_title(title)
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize="x-small", ncol=2)
    save_figure(figure, path)
