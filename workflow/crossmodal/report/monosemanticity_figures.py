"""Figures of paper A §3: figure 2 (average Mono per model and activating modality), figure 3
(Visual and Textual Mono per model) and figure 13 (Mono over dictionary training)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crossmodal.report.plotting import GROUP_COLOURS, plt, save_figure


def _grouped_bars(axis, labels, series: dict[str, np.ndarray], colours: dict[str, str]) -> None:
    width = 0.8 / len(series)
    positions = np.arange(len(labels))
    for i, (name, values) in enumerate(series.items()):
        axis.bar(positions + (i - (len(series) - 1) / 2) * width, values, width, label=name,
                 color=colours.get(name))
    axis.set_xticks(positions, labels, rotation=20)
    axis.axhline(0, color="black", linewidth=0.6)
    axis.legend(fontsize="x-small")


def plot_mono_by_model(table4: pd.DataFrame, path) -> None:
    """Figure 2: EmbSim, WinRate and Mono per model, on activated images and texts."""
    figure, axes = plt.subplots(1, 3, figsize=(11, 3.4))
    colours = {"image": GROUP_COLOURS["image"], "text": GROUP_COLOURS["text"]}
    for axis, metric, title in zip(axes, ("embsim", "winrate", "mono"),
                                   ("EmbSim", "WinRate", "Mono = (EmbSim + WinRate)/2")):
        _grouped_bars(axis, table4["model"], {m: table4[f"{metric}_{m}"].to_numpy()
                                              for m in ("image", "text")}, colours)
        axis.set_title(title)
    save_figure(figure, path)


def plot_modality_mono(table5: pd.DataFrame, path) -> None:
    """Figure 3: Visual Mono (ImgD − TextD on images) and Textual Mono (TextD − ImgD on texts)."""
    figure, axes = plt.subplots(1, 2, figsize=(8, 3.4))
    colours = {"visual": GROUP_COLOURS["ImgD"], "textual": GROUP_COLOURS["TextD"]}
    for axis, metric, title in zip(axes, ("embsim", "winrate"),
                                   ("Mono = EmbSim", "Mono = WinRate")):
        _grouped_bars(axis, table5["model"], {k: table5[f"{k}_{metric}"].to_numpy()
                                              for k in ("visual", "textual")}, colours)
        axis.set_title(title)
    save_figure(figure, path)


def plot_mono_over_training(curves: pd.DataFrame, path) -> None:
    """Figure 13: EmbSim and WinRate of each model's checkpoints against the training step,
    on activated images and texts (one panel per model)."""
    models = list(dict.fromkeys(curves["model"]))
    figure, axes = plt.subplots(1, len(models), figsize=(4.2 * len(models), 3.2), squeeze=False)
    for axis, model in zip(axes[0], models):
        chosen = curves[curves["model"] == model].sort_values("step")
        for metric, style in (("embsim", "-"), ("winrate", "--")):
            for modality in ("image", "text"):
                axis.plot(chosen["step"], chosen[f"{metric}_{modality}"], style, marker="o",
                          markersize=3, color=GROUP_COLOURS[modality],
                          label=f"{metric} ({modality})")
        axis.set_title(model)
        axis.set_xlabel("training step")
        axis.legend(fontsize="xx-small")
    save_figure(figure, path)
