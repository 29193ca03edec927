"""The β sweep of paper B appendix B: one SAE-A per β on a log grid, next to β = 0."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from crossmodal.dictionaries import build_dictionary
from crossmodal.dictionaries.evaluate import code_statistics, energy_shares
from crossmodal.dictionaries.trainer import DictionaryTraining, train_dictionary


def beta_sweep(
    spec: Mapping,
    image: np.ndarray,
    text: np.ndarray,
    settings: DictionaryTraining,
    grid: Sequence[float],
    progress_file=None,
) -> pd.DataFrame:
    """Rows ``beta, mse, r2, bimodal_energy_share, degenerate_energy_share`` for each β of the grid
    (every model trained with the same seed and data, evaluated on the training pairs)."""
    rows = []
    for beta in grid:
        model = build_dictionary(spec, image.shape[1], seed=settings.seed)
        train_dictionary(
            model,
            image,
            text,
            dataclasses.replace(settings, beta=beta),
            progress_file=progress_file,
        )
        statistics = code_statistics(model, image, text)
        row = {"beta": beta, "mse": statistics.mse, "r2": statistics.r2,
               **energy_shares(statistics)}
        rows.append(row)
        print(
            f"β = {beta:.1e}: " + ", ".join(f"{k} {v:.4f}" for k, v in row.items() if k != "beta"),
            file=progress_file,
        )
    return pd.DataFrame(rows)
