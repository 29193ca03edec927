"""Sampling toyworld scenes: one row per sample, one categorical column per concept family.

A scene is the full latent description of a sample. The image and the caption are both pure
functions of it (``render.render_scene`` and ``caption.write_caption``), so what each modality
can show is decided here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from crossmodal.world.concepts import FAMILIES, FAMILY_BY_NAME, default_frequencies

ATTRIBUTE_CLASSES = FAMILY_BY_NAME["attribute"].values
DEFAULT_CUES: dict[str, dict[str, float]] = {
    "day": {"image": 0.9, "text": 0.3},
    "night": {"image": 0.3, "text": 0.9},
}


def sample_scenes(
    n: int,
    rng: np.random.Generator,
    frequencies: Mapping[str, list[float]] | None = None,
    cues: Mapping[str, Mapping[str, float]] | None = None,
) -> pd.DataFrame:
    """Draw ``n`` independent scenes.

    Each family is drawn from ``frequencies[family]`` (defaults: ``concepts.default_frequencies``).
    The binary attribute's cue is shown in the image with probability ``cues[class]["image"]`` and
    in the caption with probability ``cues[class]["text"]``, coupled comonotonically: one uniform
    draw u per sample gives ``cue_image = u < p_image`` and ``cue_text = u < p_text``, so a sample
    that shows its cue in the weaker modality always shows it in the stronger one too. The
    marginal rates are the configured ones; the coupling makes the two cues as correlated as
    those rates allow (independent draws would leave a caption's cue almost unrelated to the
    image's, and a contrastive encoder would have nothing shared to learn).

    Returns a frame with one column per family (strings), ``cue_image`` and ``cue_text`` (bool)
    and ``render_seed`` (int64, drives positional jitter and noise texture).
    """
    frequencies = {**default_frequencies(), **(frequencies or {})}
    cues = cues or DEFAULT_CUES
    columns: dict[str, np.ndarray] = {}
    for family in FAMILIES:
        probabilities = np.asarray(frequencies[family.name], dtype=float)
        columns[family.name] = rng.choice(np.array(family.values), size=n, p=probabilities)
    attribute = columns["attribute"]
    p_image = np.array([cues[c]["image"] for c in attribute], dtype=float)
    p_text = np.array([cues[c]["text"] for c in attribute], dtype=float)
    shown = rng.random(n)
    columns["cue_image"] = shown < p_image
    columns["cue_text"] = shown < p_text
    columns["render_seed"] = rng.integers(0, 2**31 - 1, size=n, dtype=np.int64)
    return pd.DataFrame(columns)


def shifted_frequencies(rng: np.random.Generator, concentration: float) -> dict[str, list[float]]:
    """Concept frequencies of the *shifted* split: each family reweighted by a Dirichlet draw.

    ``p_shifted ∝ p_default · w`` with ``w ~ Dirichlet(concentration · 1)``; a small concentration
    gives a strong shift. The attribute family keeps its balance.
    """
    shifted: dict[str, list[float]] = {}
    for name, base in default_frequencies().items():
        if name == "attribute":
            shifted[name] = base
            continue
        weights = rng.dirichlet(np.full(len(base), concentration)) * np.asarray(base)
        shifted[name] = list(weights / weights.sum())
    return shifted


def indicators(scenes: pd.DataFrame) -> pd.DataFrame:
    """Ground-truth indicator columns ``gt_<family>_<value>`` (bool), one per concept."""
    out = {}
    for family in FAMILIES:
        values = scenes[family.name].to_numpy()
        for value in family.concepts:
            out[f"gt_{family.name}_{value}"] = values == value
    return pd.DataFrame(out, index=scenes.index)
