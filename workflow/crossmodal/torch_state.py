"""Saved model states: one dict of weights and facts per file, written atomically and read back
with one clear line when the file is missing."""

from __future__ import annotations

from pathlib import Path

import torch

from crossmodal.atomic import atomic_path
from crossmodal.store import ArtifactError


def save_state(path: str | Path, state: dict) -> None:
    """Write ``state`` (weights and facts) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_state(path: str | Path, what: str) -> dict:
    """The dict saved at ``path`` (on the CPU); ``what`` names the model in the missing-file
    error, which says how to build it."""
    path = Path(path)
    if not path.exists():
        raise ArtifactError(f"{path}: {what} not found; run `snakemake {path}`")
    return torch.load(path, map_location="cpu", weights_only=False)
