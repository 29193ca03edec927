"""Figures of the modality analysis: paper A figure 1 (MDS distributions by group), paper B
figure 2 (energy on images vs texts; a 2-D projection of the atoms) and figures 16–17 (the
high-energy unimodal latents)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from crossmodal.report.plotting import GROUP_COLOURS, plt, save_figure

ENERGY_FLOOR = 1e-12


def plot_mds_distributions(panels: Mapping[str, pd.DataFrame], path) -> None:
    """One histogram of R(k) per model, stacked by MDS group (TextD / CrossD / ImgD); a
    degenerate grouping (``mds_group_flag``) is named under the panel's title."""
    figure, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.4), squeeze=False)
    bins = np.linspace(0, 1, 31)
    for axis, (title, features) in zip(axes[0], panels.items(), strict=True):
        groups = ("TextD", "CrossD", "ImgD")
        values = [features.loc[features["mds_group"] == g, "mds"].dropna() for g in groups]
        axis.hist(values, bins=bins, stacked=True, color=[GROUP_COLOURS[g] for g in groups],
                  label=[f"{g} ({len(v)})" for g, v in zip(groups, values, strict=True)])
        flags = features.get("mds_group_flag", pd.Series(dtype=object)).dropna()
        flag = str(flags.iloc[0]) if len(flags) else ""
        if flag:
            axis.set_title(f"{title}\n(flagged: {flag})", color="#a00")
        else:
            axis.set_title(title)
        axis.set_xlabel("modality dominance score R")
        axis.legend(fontsize="x-small")
    axes[0][0].set_ylabel("latents")
    save_figure(figure, path)


def _energy_scatter(axis, features: pd.DataFrame, tau: float) -> None:
    live = features[~features["dead"]]
    image = np.maximum(live["energy_image"], ENERGY_FLOOR)
    text = np.maximum(live["energy_text"], ENERGY_FLOOR)
    for group in ("bimodal", "image", "text"):
        chosen = live["group"] == group
        axis.scatter(image[chosen], text[chosen], s=6, alpha=0.6, color=GROUP_COLOURS[group],
                     label=f"{group} ({int(chosen.sum())})")
    low, high = min(image.min(), text.min()), max(image.max(), text.max())
    line = np.array([low, high])
    # μ = E_img / (E_img + E_txt) = t  ⇔  E_txt = E_img (1 − t) / t
    for t in (tau, 1 - tau):
        axis.plot(line, line * (1 - t) / t, color="grey", linestyle="--", linewidth=0.8)
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlim(low, high)
    axis.set_ylim(low, high)
    axis.set_xlabel("energy on images E_img")
    axis.set_ylabel("energy on texts E_txt")
    axis.set_title(f"energy per latent (dashed: μ = {tau:g}, {1 - tau:g})")
    axis.legend(fontsize="x-small")


def _atom_projection(axis, features: pd.DataFrame, atoms: np.ndarray) -> None:
    live = ~features["dead"].to_numpy()
    centred = atoms[live] - atoms[live].mean(0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    projected = centred @ components[:2].T
    energy = features.loc[live, "energy"].to_numpy()
    sizes = 4 + 60 * energy / max(energy.max(), ENERGY_FLOOR)
    groups = features.loc[live, "group"].to_numpy()
    for group in ("bimodal", "image", "text"):
        chosen = groups == group
        axis.scatter(projected[chosen, 0], projected[chosen, 1], s=sizes[chosen], alpha=0.6,
                     color=GROUP_COLOURS[group], label=group)
    axis.set_xlabel("PC 1 of the atoms")
    axis.set_ylabel("PC 2 of the atoms")
    axis.set_title("atoms (size ∝ energy)")
    axis.legend(fontsize="x-small")


def plot_energy_geometry(features: pd.DataFrame, atoms: np.ndarray, tau: float, path,
                         title: str) -> None:
    """Paper B figure 2: E_img vs E_txt per latent with the μ = τ, 1 − τ diagonals (left) and the
    live atoms (K, d) projected on their first two principal components, coloured by group."""
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    _energy_scatter(axes[0], features, tau)
    _atom_projection(axes[1], features, atoms)
    figure.suptitle(title)
    save_figure(figure, path)


def plot_unimodal_biases(features: pd.DataFrame, atoms: np.ndarray, path, title: str,
                         top: int = 20) -> None:
    """Paper B figures 16–17: cosine matrix of the ``top`` highest-energy unimodal atoms, and
    energy and firing frequency of every live latent sorted by energy, per group."""
    figure, axes = plt.subplots(1, 3, figsize=(15, 4.4))
    unimodal = features[features["group"].isin(["image", "text"])]
    chosen = unimodal.sort_values("energy", ascending=False).head(top)
    if len(chosen) > 0:
        selected = atoms[chosen["latent"].to_numpy()]
        selected = selected / np.maximum(np.linalg.norm(selected, axis=1, keepdims=True), 1e-12)
        image = axes[0].imshow(selected @ selected.T, vmin=-1, vmax=1, cmap="RdBu_r")
        labels = [f"{g[0]}{k}" for g, k in zip(chosen["group"], chosen["latent"], strict=True)]
        axes[0].set_xticks(range(len(labels)), labels, rotation=90, fontsize=6)
        axes[0].set_yticks(range(len(labels)), labels, fontsize=6)
        figure.colorbar(image, ax=axes[0], fraction=0.046)
    axes[0].set_title(f"cosine of the {len(chosen)} highest-energy unimodal atoms")
    live = features[~features["dead"]].sort_values("energy", ascending=False)
    rank = np.arange(1, len(live) + 1)
    for group in ("bimodal", "image", "text"):
        mask = (live["group"] == group).to_numpy()
        axes[1].scatter(rank[mask], live["energy"].to_numpy()[mask], s=4,
                        color=GROUP_COLOURS[group], label=group)
        frequency = (live["frequency_image"] + live["frequency_text"]).to_numpy() / 2
        axes[2].scatter(rank[mask], frequency[mask], s=4, color=GROUP_COLOURS[group],
                        label=group)
    for axis, label in ((axes[1], "energy E"), (axes[2], "firing frequency (both modalities)")):
        axis.set_yscale("log")
        axis.set_xscale("log")
        axis.set_xlabel("latent rank by energy")
        axis.set_ylabel(label)
        axis.legend(fontsize="x-small")
    figure.suptitle(title)
    save_figure(figure, path)


def plot_bridge_mass(bridge_mass: pd.DataFrame, tau: float, path, title: str) -> None:
    """Paper B figure 12: stacked shares of the bridge mass B_Σ by group pair against τ
    (``bridge_mass`` columns tau, bimodal, image_image, text_text, image_text)."""
    figure, axes = plt.subplots(figsize=(6.4, 4.0))
    parts = ("bimodal", "image_image", "text_text", "image_text")
    colours = (GROUP_COLOURS["bimodal"], GROUP_COLOURS["image"], GROUP_COLOURS["text"], "tab:red")
    labels = ("pairs touching a bimodal latent", "image–image", "text–text", "image–text")
    axes.stackplot(bridge_mass["tau"], *[bridge_mass[p].fillna(0) for p in parts],
                   colors=colours, labels=labels, alpha=0.8)
    axes.axvline(tau, color="grey", linestyle="--", label=f"τ = {tau:g} (used)")
    axes.set_xlabel("unimodality threshold τ")
    axes.set_ylabel("share of the bridge mass B_Σ")
    axes.set_title(title)
    axes.legend(fontsize="x-small", loc="lower left")
    save_figure(figure, path)
