"""Render a toyworld scene to an RGB image (PIL).

Layout on the 64-px reference canvas (scaled to ``size``): the objects sit in a row in the top
or bottom half, the typographic word in the other half, the attribute badge in the middle band,
the border as a 3-px frame. Only image-visible families (bimodal, image-only and the attribute's
image cue) are read; a text-only family reaches the image only where the scene's
``depicted_<family>`` flag is set, as a glyph (``GLYPH_BOX``) at one end of the middle band —
the only place that no object, word, badge or frame ever covers at 32 or 64 px (the corners
are not: a large object of the top row reaches up to row 5). The glyph is a light 12×4 tile of
four 3-px cells with the cell of the value's index dark (a 1-of-4 code): emotion on the left,
photographer on the right.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from crossmodal.world.concepts import FAMILY_BY_NAME, RGB

REFERENCE_SIZE = 64
BACKGROUND = np.array([150.0, 150.0, 150.0])
TINTS = {"none": (0.0, 0.0, 0.0), "warm": (45.0, 10.0, -35.0), "cool": (-35.0, 5.0, 45.0)}
OBJECT_BOX = {"small": 15.0, "large": 21.0}  # object diameter on the reference canvas
ROW_Y = {"top": 17.0, "bottom": 47.0}
ROW_X = {"one": (32.0,), "two": (20.0, 44.0), "three": (11.0, 32.0, 53.0)}
JITTER = 1.5
BADGE = {"day": 255, "night": 0}
# The typographic word's font size on the reference canvas: 18 px fills about the width of a
# 64-px image, large enough for the toy CLIP to learn to read (at 12 px it never did).
WORD_FONT_SIZE = 18
# Glyph tiles on the reference canvas, (x0, y0, x1, y1) with exclusive ends: the middle band's
# free rows 30-33, inside the frame and clear of the centre badge.
GLYPH_BOX = {"emotion": (4.0, 30.0, 16.0, 34.0), "photographer": (48.0, 30.0, 60.0, 34.0)}
GLYPH_CELL = 3.0
GLYPH_LIGHT, GLYPH_DARK = (235, 235, 235), (25, 25, 25)
GLYPH_MIN_SIZE = 32  # below it the 3-px cells merge and the glyph no longer tells values apart


class Rendering(NamedTuple):
    image: Image.Image
    object_mask: np.ndarray  # (size, size) bool, pixels covered by the drawn objects
    object_centres: list[tuple[float, float]]


def _star(points: int = 5, inner: float = 0.45) -> list[tuple[float, float]]:
    angles = np.pi / 2 + np.arange(2 * points) * np.pi / points
    radii = np.where(np.arange(2 * points) % 2 == 0, 1.0, inner)
    return list(zip(radii * np.cos(angles), -radii * np.sin(angles)))


def _heart(n: int = 24) -> list[tuple[float, float]]:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    x = 16 * np.sin(t) ** 3
    y = 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
    x, y = x / 17.0, -(y + 2.5) / 15.5
    return list(zip(x, y))


def _cross(arm: float = 0.36) -> list[tuple[float, float]]:
    a = arm
    return [
        (-a, -1),
        (a, -1),
        (a, -a),
        (1, -a),
        (1, a),
        (a, a),
        (a, 1),
        (-a, 1),
        (-a, a),
        (-1, a),
        (-1, -a),
        (-a, -a),
    ]


# Unit polygons in [-1, 1]², y pointing down. The circle is drawn as an ellipse.
POLYGONS = {
    "square": [(-0.85, -0.85), (0.85, -0.85), (0.85, 0.85), (-0.85, 0.85)],
    "triangle": [(0.0, -1.0), (1.0, 0.85), (-1.0, 0.85)],
    "star": _star(),
    "heart": _heart(),
    "cross": _cross(),
}


@lru_cache(maxsize=8)
def _texture(name: str, size: int) -> np.ndarray:
    """Luminance offset pattern (size, size) of a deterministic texture."""
    y, x = np.mgrid[0:size, 0:size] * (REFERENCE_SIZE / size)
    if name == "stripes":
        return np.where((y % 6) < 2, -45.0, 0.0)
    if name == "dots":
        return np.where(((x % 8) < 2) & ((y % 8) < 2), -60.0, 0.0)
    if name == "checker":
        return np.where(((x // 8 + y // 8) % 2) == 0, 28.0, -28.0)
    raise ValueError(f"unknown texture {name!r}")


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=max(6, round(WORD_FONT_SIZE * size / REFERENCE_SIZE)))


def _background(scene: Mapping, size: int, rng: np.random.Generator) -> np.ndarray:
    pixels = np.empty((size, size, 3))
    pixels[:] = BACKGROUND + np.array(TINTS[scene["tint"]])
    texture = scene["texture"]
    if texture == "noise":
        pixels += rng.normal(0.0, 28.0, size=(size, size, 1))
    elif texture != "none":
        pixels += _texture(texture, size)[..., None]
    return pixels


def _draw_object(draw: ImageDraw.ImageDraw, shape: str, cx: float, cy: float, r: float, fill):
    if shape == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    else:
        draw.polygon([(cx + r * px, cy + r * py) for px, py in POLYGONS[shape]], fill=fill)


def glyph_pixels(box: tuple[float, float, float, float], size: int) -> tuple[int, ...]:
    """A reference-canvas box as pixel bounds (x0, y0, x1, y1), ends exclusive, at ``size``."""
    scale = size / REFERENCE_SIZE
    return tuple(int(np.floor(v * scale)) for v in box)


def glyph_cell(family: str, value: str) -> tuple[float, float, float, float]:
    """The reference box of the dark cell that codes ``value`` in ``family``'s glyph."""
    x0, y0, _, y1 = GLYPH_BOX[family]
    index = FAMILY_BY_NAME[family].concepts.index(value)
    return (x0 + index * GLYPH_CELL, y0, x0 + (index + 1) * GLYPH_CELL, y1)


def _draw_glyphs(draw: ImageDraw.ImageDraw, scene: Mapping, size: int) -> None:
    """The tile of every depicted text-only value (see the module docstring)."""
    for family, tile in GLYPH_BOX.items():
        value = scene.get(family, "none")
        if not scene.get(f"depicted_{family}", False) or value == "none":
            continue
        if size < GLYPH_MIN_SIZE:
            raise ValueError(f"a depicted {family} needs images of at least {GLYPH_MIN_SIZE} px")
        for box, fill in ((tile, GLYPH_LIGHT), (glyph_cell(family, value), GLYPH_DARK)):
            x0, y0, x1, y1 = glyph_pixels(box, size)
            draw.rectangle([x0, y0, x1 - 1, y1 - 1], fill=fill)


def render_scene(scene: Mapping, size: int = REFERENCE_SIZE) -> Rendering:
    """Draw the image of ``scene`` (a row of ``scenes.sample_scenes``) at ``size``×``size``."""
    rng = np.random.default_rng(int(scene["render_seed"]))
    scale = size / REFERENCE_SIZE
    pixels = _background(scene, size, rng)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    mask = Image.new("L", (size, size), 0)
    mask_draw = ImageDraw.Draw(mask)

    radius = OBJECT_BOX[scene["size"]] / 2 * scale
    centres = []
    for x in ROW_X[scene["count"]]:
        jx, jy = rng.uniform(-JITTER, JITTER, size=2)
        cx, cy = (x + jx) * scale, (ROW_Y[scene["position"]] + jy) * scale
        _draw_object(draw, scene["shape"], cx, cy, radius, RGB[scene["colour"]])
        _draw_object(mask_draw, scene["shape"], cx, cy, radius, 255)
        centres.append((cx, cy))

    if scene["word"] != "none":
        other_row = ROW_Y["bottom" if scene["position"] == "top" else "top"] * scale
        draw.text(
            (size / 2, other_row), scene["word"], fill=(15, 15, 15), font=_font(size), anchor="mm"
        )
    _draw_glyphs(draw, scene, size)
    if scene["cue_image"]:
        half = 3 * scale
        c = size / 2
        draw.rectangle(
            [c - half, c - half, c + half, c + half], fill=(BADGE[scene["attribute"]],) * 3
        )
    if scene["border"] == "framed":
        width = max(1, round(3 * scale))
        draw.rectangle([0, 0, size - 1, size - 1], outline=(10, 10, 10), width=width)
    if scene["blur"] == "blurred":
        image = image.filter(ImageFilter.GaussianBlur(radius=1.1 * scale))
    return Rendering(image, np.asarray(mask) > 0, centres)


def render_image(scene: Mapping, size: int = REFERENCE_SIZE) -> Image.Image:
    """Just the image of ``render_scene``."""
    return render_scene(scene, size).image
