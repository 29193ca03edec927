"""Zero-shot class prompts for toyworld's bimodal families.

A class's text embedding is the mean over an ensemble of prompts (Radford et al. 2021): every
plain-register caption core that names the class, with the other object families varied over
their whole range. This averages out the nuisance concepts exactly instead of picking one
arbitrary template.
"""

from __future__ import annotations

from itertools import product

from crossmodal.world.caption import object_phrase
from crossmodal.world.concepts import FAMILY_BY_NAME

OBJECT_FAMILIES = ("count", "size", "colour", "shape", "position")
ZERO_SHOT_FAMILIES = OBJECT_FAMILIES + ("word",)


def _cores() -> list[tuple[dict, str]]:
    values = [FAMILY_BY_NAME[name].values for name in OBJECT_FAMILIES]
    cores = []
    for combo in product(*values):
        scene = dict(zip(OBJECT_FAMILIES, combo))
        text = (object_phrase(scene["count"], scene["size"], scene["colour"], scene["shape"])
                + f" at the {scene['position']}")
        cores.append((scene, text))
    return cores


def class_prompts(family: str) -> dict[str, list[str]]:
    """``{class value: [prompt, …]}`` for a bimodal family (``word`` excludes ``none``)."""
    if family not in ZERO_SHOT_FAMILIES:
        raise ValueError(f"no zero-shot prompts for family {family!r}; "
                         f"choose one of {ZERO_SHOT_FAMILIES}")
    cores = _cores()
    if family == "word":
        return {word: [f'{text} with the word " {word} "' for _, text in cores]
                for word in FAMILY_BY_NAME["word"].concepts}
    return {value: [text for scene, text in cores if scene[family] == value]
            for value in FAMILY_BY_NAME[family].values}
