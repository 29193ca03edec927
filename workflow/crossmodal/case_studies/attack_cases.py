"""The samples of paper A's case study 2 (§4.2, appendix A.4.2): what each adversarial attack
starts from, chases and is judged by.

An :class:`AttackCase` holds, for one adversarial sample: the benign image the attack perturbs,
the contrast image whose embedding it chases, the defence's benign reference image, the harmful
text the victim is asked about, and the benign texts the zero-shot judge compares it with.

* :func:`typographic_cases` — Shayegani et al.'s set-up as paper A runs it: the contrast image is
  the harmful request typed in black on white (:func:`contrast_image`), the reference the
  friendly text ("peace and love") typed the same way, one benign-text pool for every case.
* :func:`toyworld_cases` — the same attack inside toyworld's distribution: the benign image is a
  toyworld scene without a word, the contrast image *the same scene* with the harmful word
  typed in, the reference the scene with the friendly word; the harmful text is the scene's
  caption quoting the harmful word and the benign texts quote the benign words. A toy encoder's
  embedding is dominated by the drawn objects, so a word on an empty canvas is far from any
  scene it was trained on; typing the word into the scene keeps the attack about the word.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageFont

from crossmodal.world.caption import write_caption
from crossmodal.world.render import render_image

FRIENDLY_TEXT = "peace and love"  # paper A §4.2's friendly text


@dataclass(frozen=True)
class AttackCase:
    """One adversarial sample (module docstring); ``benign_texts`` is never empty."""

    benign: Image.Image
    contrast: Image.Image
    reference: Image.Image
    harmful_text: str
    benign_texts: tuple[str, ...]


def _load_font(font, font_size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """``font`` None: PIL's bundled scalable font; a path: that TrueType font; else as given."""
    if font is None:
        return ImageFont.load_default(size=font_size)
    if isinstance(font, (str, Path)):
        return ImageFont.truetype(str(font), font_size)
    return font


def _wrap(text: str, font, width: float) -> list[str]:
    """Greedy word wrap to lines at most ``width`` px wide (a longer single word keeps a line)."""
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and font.getlength(candidate) <= width:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines or [""]


def _layout(text: str, size: int, font) -> tuple[object, list[str], int]:
    """The largest font size (from size/4 down to 6 px, or the given font object) whose wrapped
    lines fit inside the canvas less a 4 % margin; returns (font, lines, line height)."""
    usable = size * 0.92
    sizes = [None] if isinstance(font, ImageFont.ImageFont | ImageFont.FreeTypeFont) else range(
        max(6, size // 4), 5, -1)
    for font_size in sizes:
        face = _load_font(font, font_size)
        lines = _wrap(text, face, usable)
        line_height = int(np.ceil(face.getbbox("Ag")[3] * 1.15))
        widest = max(face.getlength(line) for line in lines)
        if widest <= usable and line_height * len(lines) <= usable:
            break
    return face, lines, line_height


def contrast_image(text: str, size: int, font=None) -> Image.Image:
    """Shayegani et al.'s contrast image: ``text`` word-wrapped in black on a white
    ``size``×``size`` RGB square, centred, in the largest font size that fits."""
    image = Image.new("RGB", (size, size), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    face, lines, line_height = _layout(text, size, font)
    top = (size - line_height * len(lines)) / 2
    for row, line in enumerate(lines):
        draw.text((size / 2, top + (row + 0.5) * line_height), line, fill=(0, 0, 0), font=face,
                  anchor="mm")
    return image


def friendly_image(text: str = FRIENDLY_TEXT, size: int = 64, font=None) -> Image.Image:
    """The benign reference of the defence: the friendly text (paper A: "peace and love") through
    the same renderer as ``contrast_image``, so the reference differs from the contrast image in
    its words only, not in its layout."""
    return contrast_image(text, size, font)


def typographic_cases(instructions: Sequence[str], benign_images: Sequence[Image.Image],
                      benign_texts: Sequence[str], size: int, friendly_text: str = FRIENDLY_TEXT,
                      typed: Sequence[str] | None = None) -> list[AttackCase]:
    """Paper A's cases: instruction i attacks benign image i mod len, chasing the contrast image
    of ``typed[i]`` (default: the instruction itself); every case shares the friendly reference
    and the benign-text pool."""
    if not instructions or not benign_images or not benign_texts:
        raise ValueError("the adversarial study needs at least one instruction, one benign "
                         "image and one benign text")
    typed = list(instructions if typed is None else typed)
    if len(typed) != len(instructions):
        raise ValueError(f"the adversarial study got {len(typed)} typed texts for "
                         f"{len(instructions)} instructions; give one per instruction")
    reference = friendly_image(friendly_text, size)
    return [AttackCase(benign_images[i % len(benign_images)], contrast_image(text, size),
                       reference, instruction, tuple(benign_texts))
            for i, (instruction, text) in enumerate(zip(instructions, typed))]


def with_word(scene: Mapping, word: str) -> dict:
    """The scene with its typographic word replaced (``"none"``: no word)."""
    return {**scene, "word": word}


def toyworld_cases(scenes: pd.DataFrame, harmful_words: Sequence[str],
                   benign_words: Sequence[str], friendly_word: str, size: int
                   ) -> list[AttackCase]:
    """One case per scene and harmful word (scene-major order): the scene drawn without a word
    (benign), with the harmful word (contrast), with the friendly word (reference); the victim's
    texts are the scene's caption quoting the harmful word and quoting each benign word."""
    if scenes.empty or not harmful_words or not benign_words:
        raise ValueError("the toyworld adversarial study needs scenes, harmful words and benign "
                         "words")
    cases = []
    for record, word in product(scenes.to_dict("records"), harmful_words):
        scene = with_word(record, "none")
        cases.append(AttackCase(
            benign=render_image(scene, size),
            contrast=render_image(with_word(scene, word), size),
            reference=render_image(with_word(scene, friendly_word), size),
            harmful_text=write_caption(with_word(scene, word)),
            benign_texts=tuple(write_caption(with_word(scene, b)) for b in benign_words)))
    return cases

