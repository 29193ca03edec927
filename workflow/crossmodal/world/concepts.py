"""The toyworld concept table: every concept family, its values and its ground-truth modality.

This table is the single source of truth for what toyworld can show or say. The renderer draws
the image-visible families, the caption writer names the text-visible ones, and the analysis
stages score learned features against the ``modality`` of each family:

* ``bimodal``  — drawn in the image *and* named in the caption;
* ``image``    — drawn, never mentioned;
* ``text``     — written, never drawn;
* ``attribute``— the binary attribute whose cue strength per class and per modality comes from
  the config (the gender-study analogue of paper A §4.1).

A family whose first value is ``"none"`` is optional: ``none`` means absent, and it has no
indicator column.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    """One concept family: a categorical variable of every toyworld sample."""

    name: str
    modality: str  # "bimodal" | "image" | "text" | "attribute"
    values: tuple[str, ...]

    @property
    def optional(self) -> bool:
        return self.values[0] == "none"

    @property
    def concepts(self) -> tuple[str, ...]:
        """The values that are a concept being present (everything but ``none``)."""
        return self.values[1:] if self.optional else self.values


FAMILIES: tuple[Family, ...] = (
    Family("shape", "bimodal", ("circle", "square", "triangle", "star", "heart", "cross")),
    Family("colour", "bimodal",
           ("red", "green", "blue", "yellow", "purple", "orange", "cyan", "pink")),
    Family("size", "bimodal", ("small", "large")),
    Family("position", "bimodal", ("top", "bottom")),
    Family("count", "bimodal", ("one", "two", "three")),
    Family("word", "bimodal", ("none", "peace", "love", "bomb", "attack", "hello", "danger")),
    Family("texture", "image", ("none", "stripes", "dots", "checker", "noise")),
    Family("tint", "image", ("none", "warm", "cool")),
    Family("blur", "image", ("none", "blurred")),
    Family("border", "image", ("none", "framed")),
    Family("register", "text", ("plain", "photo", "social", "shout")),
    Family("emotion", "text", ("none", "happy", "sad", "calm", "gloomy")),
    Family("photographer", "text", ("none", "alice", "bruno", "chen", "dara")),
    Family("attribute", "attribute", ("day", "night")),
)

FAMILY_BY_NAME: dict[str, Family] = {family.name: family for family in FAMILIES}

# Default probability that an optional family is present; the rest of the mass is spread
# uniformly over its concepts. Non-optional families are uniform.
DEFAULT_PRESENCE: dict[str, float] = {
    "word": 0.6,  # frequent enough that the toy CLIP learns to read (case study 2)
    "texture": 0.8,
    "tint": 0.6,
    "blur": 0.25,
    "border": 0.25,
    "emotion": 0.5,
    "photographer": 0.5,
}

RGB: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (30, 170, 40),
    "blue": (30, 60, 230),
    "yellow": (240, 220, 20),
    "purple": (140, 40, 190),
    "orange": (250, 140, 10),
    "cyan": (20, 210, 220),
    "pink": (250, 130, 200),
}


def families(modality: str | None = None) -> tuple[Family, ...]:
    """All families, or those of one ground-truth modality."""
    return tuple(f for f in FAMILIES if modality is None or f.modality == modality)


def indicator_columns() -> list[str]:
    """Names of the ground-truth indicator columns, ``gt_<family>_<value>``, in table order."""
    return [f"gt_{family.name}_{value}" for family in FAMILIES for value in family.concepts]


def indicator_families() -> dict[str, str]:
    """``gt_<family>_<value>`` column → family name."""
    return {f"gt_{family.name}_{value}": family.name
            for family in FAMILIES for value in family.concepts}


def default_frequencies() -> dict[str, list[float]]:
    """Per-family sampling probabilities of the train/test splits (sum to 1 per family)."""
    frequencies: dict[str, list[float]] = {}
    for family in FAMILIES:
        if family.optional:
            present = DEFAULT_PRESENCE[family.name]
            per_concept = present / len(family.concepts)
            frequencies[family.name] = [1.0 - present] + [per_concept] * len(family.concepts)
        else:
            frequencies[family.name] = [1.0 / len(family.values)] * len(family.values)
    return frequencies
