"""Figures of the interventions (paper B §5, appendices H, I): figure 10 (PCA of the two clouds
with their means), figure 24 (gap removal on synthetic 3-D points), figures 4 (right) / 25
(k-th-NN distance histograms per gap-removal method), figures 6 / 23 (the same for arithmetic
queries against the targets) and figure 5 (a worked arithmetic example)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from PIL import Image

from crossmodal.report.plotting import GROUP_COLOURS, plt, save_figure

MODALITY_COLOURS = {"image": GROUP_COLOURS["image"], "text": GROUP_COLOURS["text"]}
METHOD_TITLES = {
    "reconstructed": "(Î, T̂)", "bimodal": "ours (Ĩ, T̃)", "centre": "centre / A",
    "random": "random r", "shift": "shift (Liang)", "project_means": "project μ / B",
    "project_delta": "project Δ / C", "schrodi": "Schrodi et al.",
}


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def plot_embedding_pca(image: np.ndarray, text: np.ndarray, path, title: str) -> None:
    """Figure 10: both clouds (unit rows) projected on their first two principal axes, with each
    modality's mean marked."""
    image, text = _unit(image), _unit(text)
    stacked = np.vstack([image, text])
    centre = stacked.mean(0)
    _, _, axes_t = np.linalg.svd(stacked - centre, full_matrices=False)
    figure, axis = plt.subplots(figsize=(4.6, 4.2))
    for name, cloud in (("image", image), ("text", text)):
        projected = (cloud - centre) @ axes_t[:2].T
        axis.scatter(*projected.T, s=3, alpha=0.3, color=MODALITY_COLOURS[name], label=name)
        mean = (cloud.mean(0) - centre) @ axes_t[:2].T
        axis.scatter(*mean, marker="X", s=120, color=MODALITY_COLOURS[name],
                     edgecolor="black", label=f"mean {name}")
    axis.set_xlabel("PC 1")
    axis.set_ylabel("PC 2")
    axis.set_title(title)
    axis.legend(fontsize="x-small", markerscale=2)
    save_figure(figure, path)


def plot_gap_illustration(clouds: Mapping[str, tuple[np.ndarray, np.ndarray]],
                          scores: Mapping[str, float], path) -> None:
    """Figure 24: one 3-D panel per method with its image and text points (unit rows) and the
    OOD score of the texts against the images in the title."""
    figure = plt.figure(figsize=(3.2 * len(clouds), 3.4))
    for i, (method, (image, text)) in enumerate(clouds.items(), start=1):
        axis = figure.add_subplot(1, len(clouds), i, projection="3d")
        for name, cloud in (("image", image), ("text", text)):
            axis.scatter(*_unit(cloud).T, s=3, alpha=0.5, color=MODALITY_COLOURS[name],
                         label=name)
        axis.set_title(f"{METHOD_TITLES.get(method, method)}\nOOD = {scores[method]:.2f}",
                       fontsize="small")
        axis.set_xticks([]), axis.set_yticks([]), axis.set_zticks([])
    figure.axes[0].legend(fontsize="x-small")
    save_figure(figure, path)


def _histograms(axis, groups: Sequence[tuple[str, np.ndarray, str]]) -> None:
    values = np.concatenate([v for _, v, _ in groups])
    bins = np.linspace(values.min(), values.max(), 41)
    for label, distances, colour in groups:
        axis.hist(distances, bins=bins, alpha=0.55, color=colour, label=label, density=True)


def plot_gap_knn_histograms(distances: pd.DataFrame, measures: pd.DataFrame, path,
                            title: str) -> None:
    """Figures 4 (right) / 25: per method, the distance of each image (ID) and each caption (OOD)
    to its 10th nearest image, with the OOD score and recall@1 in the panel title."""
    methods = list(dict.fromkeys(distances["method"]))
    figure, axes = plt.subplots(2, (len(methods) + 1) // 2, figsize=(3.0 * ((len(methods) + 1)
                                                                           // 2), 5.6),
                                squeeze=False)
    score = measures.set_index(["method", "measure"])["value"]
    for axis, method in zip(axes.flat, methods):
        chosen = distances[distances["method"] == method]
        _histograms(axis, [(f"{cloud} → images", chosen.loc[chosen["cloud"] == cloud,
                                                             "distance"].to_numpy(),
                            MODALITY_COLOURS[cloud]) for cloud in ("image", "text")])
        axis.set_title(f"{METHOD_TITLES.get(method, method)}\nOOD {score[method, 'ood']:.2f}, "
                       f"R@1 {score[method, 'recall@1']:.2f}", fontsize="small")
        axis.set_xlabel("distance to 10th NN image", fontsize="small")
    for axis in list(axes.flat)[len(methods):]:
        axis.axis("off")
    axes[0][0].legend(fontsize="x-small")
    figure.suptitle(title)
    save_figure(figure, path)


QUERY_COLOURS = {"source": "tab:blue", "delta": "tab:orange", "sum": "tab:red",
                 "sae": "tab:green", "code": "tab:purple", "target": "black"}


def plot_query_histograms(distances: pd.DataFrame, measures: pd.DataFrame, path,
                          title: str) -> None:
    """Figures 6 / 23: distance of each query to its 10th nearest target, per query kind, against
    the targets' own 10th-NN distances; the OOD score in each panel title."""
    kinds = [k for k in dict.fromkeys(distances["cloud"]) if k != "target"]
    target = distances.loc[distances["cloud"] == "target", "distance"].to_numpy()
    score = measures.set_index("query")
    figure, axes = plt.subplots(1, len(kinds), figsize=(3.0 * len(kinds), 3.0), squeeze=False)
    for axis, kind in zip(axes[0], kinds):
        query = distances.loc[distances["cloud"] == kind, "distance"].to_numpy()
        _histograms(axis, [("targets", target, QUERY_COLOURS["target"]),
                           (score.loc[kind, "label"], query, QUERY_COLOURS[kind])])
        axis.set_title(f"{score.loc[kind, 'label']}\nOOD {score.loc[kind, 'ood']:.2f}",
                       fontsize="small")
        axis.set_xlabel("distance to 10th NN target", fontsize="small")
        axis.legend(fontsize="xx-small")
    figure.suptitle(title)
    save_figure(figure, path)


def plot_arithmetic_example(panels: Sequence[tuple[str, Image.Image]], caption: str,
                            path) -> None:
    """Figure 5 on toyworld: the source image, the relative caption, the target, and the top
    image retrieved by each query (the panel titles carry the target's rank)."""
    figure, axes = plt.subplots(1, len(panels), figsize=(2.2 * len(panels), 2.6))
    for axis, (title, image) in zip(axes, panels, strict=True):
        axis.imshow(image)
        axis.set_title(title, fontsize="x-small")
        axis.axis("off")
    figure.suptitle(f"relative caption: “{caption}”", fontsize="small")
    save_figure(figure, path)
