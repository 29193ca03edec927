"""Modality-gap measures between paired image and text embeddings (DESIGN §6)."""

from __future__ import annotations

import numpy as np


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def difference_of_means(image: np.ndarray, text: np.ndarray) -> float:
    """DiM = ‖mean_i Î_i − mean_i T̂_i‖ over L2-normalised rows (paper B table 6)."""
    return float(np.linalg.norm(_unit(image).mean(0) - _unit(text).mean(0)))
