"""Write the caption of a toyworld scene, and relative captions for edit triplets.

Only text-visible families are read: bimodal families are named, text-only families
(register, emotion, photographer) shape the wording, the attribute's word appears when its
text cue is on. An image-only family (texture, tint, blur, border) is read only where the
scene's ``mentioned_<family>`` flag is set: its value is then named in one background clause,
``"on a blurry framed striped warm background"`` at the longest, before the register
decoration.
"""

from __future__ import annotations

from collections.abc import Mapping

PLURAL = {"circle": "circles", "square": "squares", "triangle": "triangles", "star": "stars",
          "heart": "hearts", "cross": "crosses"}
ATTRIBUTE_PHRASE = {"day": "in daylight", "night": "at night"}
# The adjective that names each mentionable value, in the order they stand in the clause.
MENTION_WORDS: dict[str, dict[str, str]] = {
    "blur": {"blurred": "blurry"},
    "border": {"framed": "framed"},
    "texture": {"stripes": "striped", "dots": "dotted", "checker": "checkered", "noise": "noisy"},
    "tint": {"warm": "warm", "cool": "cool"},
}
# The longest caption: 25 words without mentions, 32 with all four (the toy tokenizer's
# context_length must be at least the word count + 2 for nothing to be cut).
MAX_WORDS = 32


def object_phrase(count: str, size: str, colour: str, shape: str) -> str:
    """``"two large red stars"`` — the phrase that names the bimodal object concepts."""
    noun = shape if count == "one" else PLURAL[shape]
    return f"{count} {size} {colour} {noun}"


def mention_phrase(scene: Mapping) -> str | None:
    """``"on a striped warm background"``: the mentioned image-only values, or None if none is."""
    words = [MENTION_WORDS[name][scene[name]] for name in MENTION_WORDS
             if scene.get(f"mentioned_{name}", False) and scene[name] != "none"]
    return f"on a {' '.join(words)} background" if words else None


def write_caption(scene: Mapping) -> str:
    """The caption of ``scene``: a deterministic function of its text-visible concepts."""
    body = [object_phrase(scene["count"], scene["size"], scene["colour"], scene["shape"]),
            f"at the {scene['position']}"]
    if scene["word"] != "none":
        body.append(f'with the word " {scene["word"]} "')
    if scene["cue_text"]:
        body.append(ATTRIBUTE_PHRASE[scene["attribute"]])
    mentions = mention_phrase(scene)
    if mentions:
        body.append(mentions)
    text = " ".join(body)

    register = scene["register"]
    if register == "photo":
        text = f"a photo of {text}"
    elif register == "social":
        text = f"{text} # shapes # art"
    elif register == "shout":
        text = f"wow {text} ! ! !"
    if scene["emotion"] != "none":
        text = f"{text} , so {scene['emotion']}"
    if scene["photographer"] != "none":
        text = f"{text} , by {scene['photographer']}"
    return text


def relative_caption(family: str, old: str, new: str) -> str:
    """The FashionIQ-style instruction that turns the source into the target."""
    if family == "shape":
        return f"is a {new} instead of a {old}"
    if family == "count":
        return f"has {new} instead of {old}"
    if family == "position":
        return f"is at the {new} instead of the {old}"
    return f"is {new} instead of {old}"  # colour, size
