"""Shared test fixtures: a small toyworld, the repository root."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def small_world():
    """Scenes (with images and captions) of a small toyworld, built once per session."""
    from crossmodal.world import ToyworldSpec, build_pairs

    return build_pairs(ToyworldSpec(seed=3, n_train=300, n_test=50, n_shifted=50, n_edits=40),
                       progress=False)
