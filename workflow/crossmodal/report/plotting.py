"""Shared matplotlib set-up: the headless Agg backend and atomic PNG writes."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from crossmodal.atomic import atomic_path

GROUP_COLOURS = {"image": "tab:blue", "text": "tab:orange", "bimodal": "tab:green",
                 "dead": "lightgrey", "ImgD": "tab:blue", "TextD": "tab:orange",
                 "CrossD": "tab:green"}


def save_figure(figure, path: str | Path, dpi: int = 120) -> None:
    """Tight layout, write ``path`` atomically as PNG, close the figure."""
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=dpi)
    plt.close(figure)


__all__ = ["GROUP_COLOURS", "plt", "save_figure"]
