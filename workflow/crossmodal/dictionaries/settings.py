"""From config blocks to a ``DictionaryTraining``: global defaults, per-dictionary overrides, β."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from crossmodal.dictionaries.beta import select_beta
from crossmodal.dictionaries.trainer import DictionaryTraining

TRAINING_KEYS = ("epochs", "batch_size", "lr", "grad_clip", "alignment", "stop_when_active_stable",
                 "patience", "tolerance", "window_steps", "warmup_steps", "decay_steps",
                 "checkpoint_every")


def resolve_beta(spec: Mapping, sweep: pd.DataFrame | None, tolerance: float = 0.05) -> float:
    """β of a dictionary: a number, or ``auto`` → the β-selection rule on its sweep table."""
    beta = spec.get("beta", 0.0)
    if beta == "auto":
        if sweep is None:
            raise ValueError("beta: auto needs the β sweep table (rule beta_sweep)")
        return select_beta(sweep, tolerance)
    return float(beta)


def training_pairs(defaults: Mapping, spec: Mapping) -> int | None:
    """How many training pairs a dictionary sees: its own ``pairs``, else the global one, else
    None (every pair of the split)."""
    pairs = spec.get("pairs", defaults.get("pairs"))
    return None if pairs is None else int(pairs)


def training_settings(defaults: Mapping, spec: Mapping, beta: float, seed: int, device: str
                      ) -> DictionaryTraining:
    """Global ``dictionary_training`` values overridden by the dictionary's own block."""
    values = {key: spec.get(key, defaults.get(key)) for key in TRAINING_KEYS}
    values = {key: value for key, value in values.items() if value is not None}
    return DictionaryTraining(**values, beta=beta, seed=seed, device=device)
