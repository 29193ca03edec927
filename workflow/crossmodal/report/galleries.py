"""Feature galleries: the top activating images and captions of selected latents.

Paper A figures 4–6 show latents drawn at random from each modality-dominance group (ImgD,
TextD, CrossD); paper B figures 18–22 show the highest- and lowest-energy bimodal latents and
the highest-energy image-only and text-only latents. ``select_gallery_latents`` picks the
latents, ``image_grid`` draws one PNG of top images per latent (PIL only), and
``write_gallery_page`` writes one self-contained HTML page (no external resources; the grids
are linked by relative paths from a directory next to the page). Every file is written
atomically.
"""

from __future__ import annotations

import html
import math
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageOps

from crossmodal.atomic import atomic_path, write_text_atomic
from crossmodal.report.html import CSS, format_float

BACKGROUND = (255, 255, 255)
PLACEHOLDER_TEXT = "no activating images"
PLACEHOLDER_COLOUR = (120, 120, 120)
NO_LATENTS_TEXT = "no latents in this gallery"
NO_TEXTS_TEXT = "no activating texts"
DEFAULT_INTRO = ("Top activating images (grid, highest first) and captions (list, with their "
                 "activation) of latents selected from each modality group.")

GALLERY_CSS = """
.card { border: 1px solid #ddd; border-radius: 4px; padding: 0.5em 1em; margin: 0 0 1em; }
.card h3 { margin: 0.2em 0; }
.card figure { display: block; margin: 0.5em 0; }
.stats { font-size: 0.85em; color: #444; }
.empty { color: #777; font-style: italic; }
.activation { font-family: monospace; color: #555; margin-right: 0.5em; }
.reference { color: #555; }
"""

STAT_LABELS = {"mu": "μ", "mds": "R", "energy": "energy", "energy_image": "energy (image)",
               "energy_text": "energy (text)", "frequency_image": "frequency (image)",
               "frequency_text": "frequency (text)", "group": "group (μ rule)",
               "mds_group": "MDS group", "gt_concept": "ground-truth concept",
               "gt_auc": "ground-truth AUC"}
OPTIONAL_STATS = ("gt_concept", "gt_auc")
REQUIRED_COLUMNS = ("latent", "dead", "energy", "group", "mds_group")


class GallerySpec(NamedTuple):
    """How a gallery is presented: title, the paper figure it reproduces, what it shows."""

    title: str
    figure: str
    description: str


class SelectionRule(NamedTuple):
    """Which live latents a gallery draws from (``column == value``) and in what order
    (``random``, ``descending`` or ``ascending`` energy)."""

    column: str
    value: str
    order: str


GALLERIES: dict[str, GallerySpec] = {
    "ImgD": GallerySpec("Image-dominant latents (ImgD)", "paper A, figure 4",
                        "Latents drawn at random from the ImgD group of the modality dominance "
                        "score: they fire (almost) only on images."),
    "TextD": GallerySpec("Text-dominant latents (TextD)", "paper A, figure 5",
                         "Latents drawn at random from the TextD group of the modality "
                         "dominance score: they fire (almost) only on texts."),
    "CrossD": GallerySpec("Cross-modal latents (CrossD)", "paper A, figure 6",
                          "Latents drawn at random from the CrossD group of the modality "
                          "dominance score: they fire on images and texts alike."),
    "bimodal_high": GallerySpec("High-energy bimodal latents", "paper B, figures 18–19",
                                "The bimodal latents (μ rule) with the highest energy."),
    "bimodal_low": GallerySpec("Low-energy bimodal latents", "paper B, figure 20",
                               "The live bimodal latents (μ rule) with the lowest energy."),
    "image_only": GallerySpec("Image-only latents", "paper B, figure 21",
                              "The image-only latents (μ rule) with the highest energy."),
    "text_only": GallerySpec("Text-only latents", "paper B, figure 22",
                             "The text-only latents (μ rule) with the highest energy."),
}

SELECTION_RULES: dict[str, SelectionRule] = {
    "ImgD": SelectionRule("mds_group", "ImgD", "random"),
    "TextD": SelectionRule("mds_group", "TextD", "random"),
    "CrossD": SelectionRule("mds_group", "CrossD", "random"),
    "bimodal_high": SelectionRule("group", "bimodal", "descending"),
    "bimodal_low": SelectionRule("group", "bimodal", "ascending"),
    "image_only": SelectionRule("group", "image", "descending"),
    "text_only": SelectionRule("group", "text", "descending"),
}


# --- selection --------------------------------------------------------------------------------

def live_latents(features: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``features`` whose latent is not dead (and has a finite energy)."""
    missing = [column for column in REQUIRED_COLUMNS if column not in features.columns]
    if missing:
        raise KeyError(f"feature table lacks the columns {missing}")
    alive = ~features["dead"].astype(bool) & np.isfinite(features["energy"].astype(float))
    return features.loc[alive]


def pick_random(candidates: pd.DataFrame, count: int, seed: int, gallery_index: int) -> list[int]:
    """Up to ``count`` latents of ``candidates`` drawn without replacement with a generator
    seeded by (``seed``, ``gallery_index``); returned in ascending latent order."""
    latents = np.sort(candidates["latent"].to_numpy(dtype=int))
    rng = np.random.default_rng([seed, gallery_index])
    chosen = rng.choice(latents, size=min(count, len(latents)), replace=False)
    return sorted(int(latent) for latent in chosen)


def pick_by_energy(candidates: pd.DataFrame, count: int, descending: bool) -> list[int]:
    """The ``count`` latents of ``candidates`` with the highest (``descending``) or lowest
    energy, in that order; ties broken by latent id."""
    ordered = candidates.sort_values("latent", kind="mergesort").sort_values(
        "energy", ascending=not descending, kind="mergesort")
    return [int(latent) for latent in ordered["latent"].head(count)]


def select_gallery_latents(features: pd.DataFrame, per_gallery: int = 4,
                           seed: int = 0) -> pd.DataFrame:
    """Columns ``gallery``, ``latent``: up to ``per_gallery`` live latents per gallery of
    ``GALLERIES`` (in its order). MDS galleries are a seeded random draw; the others follow
    energy order. A small group gives fewer rows; a latent may appear in several galleries."""
    live = live_latents(features)
    rows = []
    for index, (gallery, rule) in enumerate(SELECTION_RULES.items()):
        candidates = live.loc[live[rule.column] == rule.value]
        if rule.order == "random":
            latents = pick_random(candidates, per_gallery, seed, index)
        else:
            latents = pick_by_energy(candidates, per_gallery, rule.order == "descending")
        rows += [(gallery, latent) for latent in latents]
    return pd.DataFrame(rows, columns=["gallery", "latent"]).astype({"latent": int})


# --- image grids ------------------------------------------------------------------------------

def grid_size(count: int, columns: int, tile: int) -> tuple[int, int]:
    """(width, height) in pixels of a grid of ``count`` > 0 square tiles, ``columns`` per row:
    as many columns as needed up to ``columns``, as many rows as needed."""
    used_columns = min(count, columns)
    rows = math.ceil(count / columns)
    return used_columns * tile, rows * tile


def fit_tile(image: Image.Image, tile: int) -> Image.Image:
    """``image`` as RGB, scaled to fit a ``tile`` × ``tile`` square (aspect kept) and centred
    on a white background."""
    canvas = Image.new("RGB", (tile, tile), BACKGROUND)
    fitted = ImageOps.contain(image.convert("RGB"), (tile, tile))
    canvas.paste(fitted, ((tile - fitted.width) // 2, (tile - fitted.height) // 2))
    return canvas


def placeholder_image(tile: int) -> Image.Image:
    """A small blank image (3 tiles wide, half a tile high) saying "no activating images"."""
    canvas = Image.new("RGB", (3 * tile, max(tile // 2, 16)), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    left, top, right, bottom = draw.textbbox((0, 0), PLACEHOLDER_TEXT)
    position = ((canvas.width - (right - left)) // 2 - left,
                (canvas.height - (bottom - top)) // 2 - top)
    draw.text(position, PLACEHOLDER_TEXT, fill=PLACEHOLDER_COLOUR)
    return canvas


def render_grid(images: Sequence[Image.Image], columns: int, tile: int) -> Image.Image:
    """The images as tiles, row by row (see ``grid_size``); the placeholder if there are none."""
    if not images:
        return placeholder_image(tile)
    grid = Image.new("RGB", grid_size(len(images), columns, tile), BACKGROUND)
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        grid.paste(fit_tile(image, tile), (column * tile, row * tile))
    return grid


def image_grid(images: Sequence[Image.Image], path: str | Path, columns: int = 8,
               tile: int = 96) -> Path:
    """Write ``images`` as one PNG grid of ``tile``-pixel squares, ``columns`` per row, to
    ``path`` (atomically); an empty list gives a placeholder saying "no activating images".
    Returns ``path``."""
    if columns < 1 or tile < 1:
        raise ValueError(f"columns and tile must be positive, got {columns} and {tile}")
    path = Path(path)
    grid = render_grid(list(images), columns, tile)
    with atomic_path(path) as tmp:
        grid.save(tmp, format="PNG")
    return path


# --- entries ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class GalleryEntry:
    """One latent's card: its gallery, the grid PNG (URL relative to the page), the top texts
    as (caption, activation), the activations of the grid's images, and its statistics
    (keys of ``STAT_LABELS``; the ground-truth ones only where known)."""

    gallery: str
    latent: int
    grid_src: str
    top_texts: list[tuple[str, float]] = field(default_factory=list)
    image_activations: list[float] = field(default_factory=list)
    stats: dict[str, float | str] = field(default_factory=dict)


def is_missing(value) -> bool:
    """True for None and NaN."""
    return value is None or (isinstance(value, float | np.floating) and math.isnan(value))


def stat_value(value) -> float | str:
    """A statistic as a plain float (numbers) or str (anything else)."""
    if isinstance(value, bool | np.bool_):
        return str(value)
    if isinstance(value, int | float | np.number):
        return float(value)
    return str(value)


def latent_stats(row: pd.Series) -> dict[str, float | str]:
    """The statistics of ``STAT_LABELS`` present in one feature-table row; μ and R are kept
    even when NaN, the ground-truth columns only when known."""
    stats = {}
    for key in STAT_LABELS:
        if key not in row.index or (key in OPTIONAL_STATS and is_missing(row[key])):
            continue
        stats[key] = float("nan") if is_missing(row[key]) else stat_value(row[key])
    return stats


def grid_file_name(gallery: str, latent: int) -> str:
    """File name of one latent's grid: ``{gallery}_{latent}.png``."""
    return f"{gallery}_{int(latent)}.png"


def default_image_dir(page_path: str | Path) -> str:
    """Directory (next to the page) for its grids: the page's stem + ``_images``."""
    return f"{Path(page_path).stem}_images"


def gallery_entries(features: pd.DataFrame, selection: pd.DataFrame,
                    top_images: Mapping[int, Sequence[tuple[Image.Image, float]]],
                    top_texts: Mapping[int, Sequence[tuple[str, float]]],
                    page_path: str | Path, image_dir: str | None = None, columns: int = 8,
                    tile: int = 96) -> list[GalleryEntry]:
    """One entry per row of ``selection`` (columns ``gallery``, ``latent``), its grid of
    ``top_images[latent]`` ((image, activation) pairs, highest first) written to
    ``image_dir/{gallery}_{latent}.png`` next to ``page_path`` (default directory:
    ``default_image_dir``); ``top_texts[latent]`` are (caption, activation) pairs. Latents
    missing from the mappings get empty lists (and the placeholder grid)."""
    image_dir = image_dir or default_image_dir(page_path)
    rows = features.set_index("latent", drop=False)
    entries = []
    for gallery, latent in selection[["gallery", "latent"]].itertuples(index=False):
        latent = int(latent)
        images = list(top_images.get(latent, ()))
        name = grid_file_name(gallery, latent)
        image_grid([image for image, _ in images], Path(page_path).parent / image_dir / name,
                   columns=columns, tile=tile)
        entries.append(GalleryEntry(
            gallery=gallery, latent=latent, grid_src=urllib.parse.quote(f"{image_dir}/{name}"),
            top_texts=[(str(text), float(value)) for text, value in top_texts.get(latent, ())],
            image_activations=[float(value) for _, value in images],
            stats=latent_stats(rows.loc[latent])))
    return entries


# --- HTML -------------------------------------------------------------------------------------

def format_stat(value: float | str) -> str:
    """A statistic for display: floats with 4 significant digits, NaN as "n/a"."""
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else format_float(value)
    return str(value)


def render_stats(stats: Mapping[str, float | str]) -> str:
    """The stats line of a card: ``label = value`` pairs separated by middle dots."""
    parts = [f"{STAT_LABELS.get(key, key)} = {format_stat(value)}" for key, value in stats.items()]
    return f'<p class="stats">{html.escape(" · ".join(parts))}</p>' if parts else ""


def render_texts(texts: Sequence[tuple[str, float]]) -> str:
    """An ordered list of the top texts, each with its activation; a note if there are none."""
    if not texts:
        return f'<p class="empty">{NO_TEXTS_TEXT}</p>'
    items = "\n".join(f'<li><span class="activation">{html.escape(format_float(value))}</span>'
                      f"{html.escape(text)}</li>" for text, value in texts)
    return f'<ol class="texts">\n{items}\n</ol>'


def render_grid_figure(entry: GalleryEntry) -> str:
    """The card's ``<figure>``: the grid image and the activations of its images."""
    alt = f"top activating images of latent {entry.latent} ({entry.gallery})"
    activations = ", ".join(format_float(value) for value in entry.image_activations)
    caption = f"image activations: {activations}" if activations else PLACEHOLDER_TEXT
    return (f'<figure><img src="{html.escape(entry.grid_src)}" alt="{html.escape(alt)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def render_card(entry: GalleryEntry) -> str:
    """HTML for one latent: heading, image grid, stats line, top texts."""
    anchor = html.escape(f"{entry.gallery}-latent-{entry.latent}")
    return "\n".join([f'<article class="card" id="{anchor}">',
                      f"<h3>Latent {entry.latent}</h3>", render_grid_figure(entry),
                      render_stats(entry.stats), render_texts(entry.top_texts), "</article>"])


def gallery_spec(gallery: str) -> GallerySpec:
    """The spec of ``gallery``; a gallery not in ``GALLERIES`` is titled by its key."""
    return GALLERIES.get(gallery, GallerySpec(gallery, "", ""))


def render_gallery(gallery: str, entries: Sequence[GalleryEntry]) -> str:
    """One section: title, figure reference, description, then a card per entry (or a note
    that the gallery has no latents)."""
    spec = gallery_spec(gallery)
    parts = [f'<section id="gallery-{html.escape(gallery)}">', f"<h2>{html.escape(spec.title)}</h2>"]
    if spec.figure:
        parts.append(f'<p class="reference">{html.escape(spec.figure)}</p>')
    if spec.description:
        parts.append(f"<p>{html.escape(spec.description)}</p>")
    parts += [render_card(entry) for entry in entries] or [f'<p class="empty">{NO_LATENTS_TEXT}</p>']
    parts.append("</section>")
    return "\n".join(parts)


def gallery_order(entries: Sequence[GalleryEntry]) -> list[str]:
    """Every key of ``GALLERIES``, then any other gallery of ``entries`` in first-seen order."""
    extra = [entry.gallery for entry in entries if entry.gallery not in GALLERIES]
    return list(GALLERIES) + list(dict.fromkeys(extra))


def render_contents(galleries: Sequence[str]) -> str:
    """Table of contents linking to each gallery section."""
    items = "\n".join(f'<li><a href="#gallery-{html.escape(g)}">'
                      f"{html.escape(gallery_spec(g).title)}</a></li>" for g in galleries)
    return f"<nav>\n<h2>Contents</h2>\n<ul>\n{items}\n</ul>\n</nav>"


def render_gallery_page(entries: Sequence[GalleryEntry], title: str, intro: str) -> str:
    """The whole HTML document: title, intro, contents, one section per gallery."""
    galleries = gallery_order(entries)
    sections = [render_gallery(g, [e for e in entries if e.gallery == g]) for g in galleries]
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{CSS}{GALLERY_CSS}</style>\n</head>\n"
            f"<body>\n<h1>{html.escape(title)}</h1>\n<p>{html.escape(intro)}</p>\n"
            + render_contents(galleries) + "\n" + "\n".join(sections) + "\n</body>\n</html>\n")


def write_gallery_page(entries: Sequence[GalleryEntry], path: str | Path, title: str,
                       intro: str) -> None:
    """Write the gallery page to ``path`` (atomically): a section per gallery of
    ``GALLERIES`` (and any other gallery of ``entries``), a card per entry."""
    write_text_atomic(path, render_gallery_page(entries, title, intro))


def write_galleries(features: pd.DataFrame,
                    top_images: Mapping[int, Sequence[tuple[Image.Image, float]]],
                    top_texts: Mapping[int, Sequence[tuple[str, float]]], path: str | Path,
                    title: str = "Feature galleries", intro: str = DEFAULT_INTRO,
                    per_gallery: int = 4, seed: int = 0) -> list[GalleryEntry]:
    """Select the latents, write their grids next to ``path`` and the page to ``path``;
    returns the entries."""
    selection = select_gallery_latents(features, per_gallery=per_gallery, seed=seed)
    entries = gallery_entries(features, selection, top_images, top_texts, path)
    write_gallery_page(entries, path, title, intro)
    return entries
