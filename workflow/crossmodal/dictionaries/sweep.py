"""The β sweep of paper B appendix B: one SAE-A per β on a log grid, next to β = 0."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from crossmodal.dictionaries import build_dictionary
from crossmodal.dictionaries.evaluate import encode_in_batches, energy_shares, reconstruction
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
    x = np.concatenate([image, text])
    for beta in grid:
        model = build_dictionary(spec, image.shape[1], seed=settings.seed)
        train_dictionary(
            model,
            image,
            text,
            dataclasses.replace(settings, beta=beta),
            progress_file=progress_file,
        )
        model.cpu()
        image_codes, text_codes = encode_in_batches(model, image), encode_in_batches(model, text)
        row = {
            "beta": beta,
            **reconstruction(model, np.concatenate([image_codes, text_codes]), x),
            **energy_shares(image_codes, text_codes),
        }
        rows.append(row)
        print(
            f"β = {beta:.1e}: " + ", ".join(f"{k} {v:.4f}" for k, v in row.items() if k != "beta"),
            file=progress_file,
        )
    return pd.DataFrame(rows)
