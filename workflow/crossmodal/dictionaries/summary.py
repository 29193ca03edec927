"""One row per trained dictionary, from its checkpoint facts and training log."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd


def summary_row(facts: Mapping, log: pd.DataFrame, benchmark_seconds: float | None) -> dict:
    """Architecture, size, β and the last logged values (mean of the final 10 steps)."""
    spec = facts["spec"]
    tail = log.tail(10)
    row = {"encoder": facts.get("encoder"), "dictionary": facts.get("method"),
           "architecture": spec["architecture"], "d": facts["d"],
           "latents": facts["n_latents"], "k": spec.get("k"), "beta": facts.get("beta", 0.0),
           "alignment": facts.get("alignment"), "steps": len(log),
           "train_seconds": benchmark_seconds}
    for column in ("loss", "mse", "r2", "l0", "align", "contrastive", "active_image",
                   "active_text", "atom_cosine_to_init"):
        if column in log:
            row[f"final_{column}"] = float(tail[column].mean())
    return row
