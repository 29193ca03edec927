"""Sampling toyworld scenes: one row per sample, one categorical column per concept family.

A scene is the full latent description of a sample. The image and the caption are both pure
functions of it (``render.render_scene`` and ``caption.write_caption``), so what each modality
can show is decided here and nowhere else — including the per-pair flags ``mentioned_<family>``
(the caption names an image-only family's value) and ``depicted_<family>`` (the image shows a
text-only family's value as a glyph), drawn with the configured rates.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from crossmodal.world.concepts import FAMILIES, FAMILY_BY_NAME, default_frequencies, families

ATTRIBUTE_CLASSES = FAMILY_BY_NAME["attribute"].values
DEFAULT_CUES: dict[str, dict[str, float]] = {
    "day": {"image": 0.9, "text": 0.3},
    "night": {"image": 0.3, "text": 0.9},
}
# Families a caption may name although they are image-only, and text-only families an image may
# show. ``register`` is not depictable: it is how the caption is worded, not something in the
# scene, so any mark for it would be an arbitrary code rather than a depiction of it.
MENTIONABLE: tuple[str, ...] = tuple(f.name for f in families("image"))
DEPICTABLE: tuple[str, ...] = ("emotion", "photographer")


def sample_scenes(
    n: int,
    rng: np.random.Generator,
    frequencies: Mapping[str, list[float]] | None = None,
    cues: Mapping[str, Mapping[str, float]] | None = None,
    mention_rates: Mapping[str, float] | None = None,
    depiction_rates: Mapping[str, float] | None = None,
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

    ``mention_rates`` / ``depiction_rates`` (default 0 for every family) give the lever flags,
    drawn by ``lever_flags`` from a child stream of ``rng``: the other columns do not depend on
    them, and with all rates 0 the scenes are those of the world without the lever.

    Returns a frame with one column per family (strings), ``cue_image`` and ``cue_text`` (bool),
    ``render_seed`` (int64, drives positional jitter and noise texture), then
    ``mentioned_<family>`` for ``MENTIONABLE`` and ``depicted_<family>`` for ``DEPICTABLE`` (bool).
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
    columns.update(lever_flags(columns, rng.spawn(1)[0], mention_rates, depiction_rates))
    return pd.DataFrame(columns)


def _checked_rates(rates: Mapping[str, float] | None, allowed: tuple[str, ...]) -> dict:
    """``rates`` completed with 0 for every allowed family; unknown names or bad values raise."""
    rates = dict(rates or {})
    unknown = sorted(set(rates) - set(allowed))
    if unknown:
        raise ValueError(f"no rate can be set for {unknown}; allowed: {list(allowed)}")
    bad = {name: p for name, p in rates.items() if not 0.0 <= p <= 1.0}
    if bad:
        raise ValueError(f"rates must lie in [0, 1]: {bad}")
    return {name: float(rates.get(name, 0.0)) for name in allowed}


def lever_flags(
    columns: Mapping[str, np.ndarray],
    rng: np.random.Generator,
    mention_rates: Mapping[str, float] | None = None,
    depiction_rates: Mapping[str, float] | None = None,
) -> dict[str, np.ndarray]:
    """``mentioned_<family>`` / ``depicted_<family>``: present and a uniform draw below the rate.

    One uniform per sample and family is always drawn, in the fixed order ``MENTIONABLE`` then
    ``DEPICTABLE``, so one family's rate never changes another family's flags. An absent value
    (``none``) is never mentioned or depicted.
    """
    flags: dict[str, np.ndarray] = {}
    for prefix, rates in (("mentioned", _checked_rates(mention_rates, MENTIONABLE)),
                          ("depicted", _checked_rates(depiction_rates, DEPICTABLE))):
        for name, rate in rates.items():
            present = np.asarray(columns[name]) != "none"
            flags[f"{prefix}_{name}"] = present & (rng.random(len(present)) < rate)
    return flags


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
