"""Feature galleries: latent selection, image grids and the HTML page."""

from __future__ import annotations

import re
import urllib.parse

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from crossmodal.report.galleries import (
    GALLERIES,
    NO_LATENTS_TEXT,
    GalleryEntry,
    gallery_entries,
    image_grid,
    select_gallery_latents,
    write_galleries,
    write_gallery_page,
)

PNG_MAGIC = b"\x89PNG"


def make_features() -> pd.DataFrame:
    """20 latents: 0–5 bimodal/CrossD (energy 6..1), 6–9 image/ImgD, 10–13 text/TextD,
    14–15 dead (claimed bimodal/ImgD to check they are dropped), 16–19 image/TextD mixes."""
    rows = []
    for latent, energy in zip(range(6), [6.0, 1.0, 5.0, 2.0, 4.0, 3.0], strict=True):
        rows.append((latent, energy, "bimodal", "CrossD", False))
    rows += [(latent, float(latent), "image", "ImgD", False) for latent in range(6, 10)]
    rows += [(latent, float(latent), "text", "TextD", False) for latent in range(10, 14)]
    rows += [(14, 100.0, "bimodal", "ImgD", True), (15, 0.0, "bimodal", "CrossD", True)]
    rows += [(latent, 0.5, "image", "TextD", False) for latent in range(16, 20)]
    frame = pd.DataFrame(rows, columns=["latent", "energy", "group", "mds_group", "dead"])
    frame["energy_image"] = frame["energy"] / 2
    frame["energy_text"] = frame["energy"] / 2
    frame["frequency_image"] = 0.1
    frame["frequency_text"] = 0.2
    frame["mu"] = np.where(frame["dead"], np.nan, 0.5)
    frame["mds"] = np.where(frame["dead"], np.nan, 0.4)
    frame["gt_concept"] = ["red"] * 10 + [None] * 10
    frame["gt_auc"] = [0.9] * 10 + [np.nan] * 10
    return frame


def latents_of(selection: pd.DataFrame, gallery: str) -> list[int]:
    return selection.loc[selection["gallery"] == gallery, "latent"].tolist()


# --- selection --------------------------------------------------------------------------------

def test_selection_energy_galleries_follow_energy_order():
    selection = select_gallery_latents(make_features(), per_gallery=3)
    assert list(selection.columns) == ["gallery", "latent"]
    assert latents_of(selection, "bimodal_high") == [0, 2, 4]
    assert latents_of(selection, "bimodal_low") == [1, 3, 5]
    assert latents_of(selection, "image_only") == [9, 8, 7]
    assert latents_of(selection, "text_only") == [13, 12, 11]


def test_selection_mds_galleries_draw_from_their_group_without_dead():
    selection = select_gallery_latents(make_features(), per_gallery=3)
    assert set(latents_of(selection, "ImgD")) <= {6, 7, 8, 9}
    assert set(latents_of(selection, "CrossD")) <= set(range(6))
    assert set(latents_of(selection, "TextD")) <= {10, 11, 12, 13, 16, 17, 18, 19}
    assert all(len(latents_of(selection, g)) == 3 for g in GALLERIES)
    assert not set(selection["latent"]) & {14, 15}


def test_selection_order_small_groups_and_determinism():
    features = make_features()
    selection = select_gallery_latents(features, per_gallery=10, seed=7)
    assert list(dict.fromkeys(selection["gallery"])) == list(GALLERIES)
    assert sorted(latents_of(selection, "ImgD")) == [6, 7, 8, 9]
    assert len(latents_of(selection, "bimodal_high")) == 6
    pd.testing.assert_frame_equal(selection, select_gallery_latents(features, 10, seed=7))
    draws = {tuple(latents_of(select_gallery_latents(features, 2, seed=s), "TextD"))
             for s in range(10)}
    assert len(draws) > 1


def test_selection_missing_group_gives_no_rows():
    features = make_features()
    features = features.loc[(features["group"] != "text") & (features["mds_group"] != "ImgD")]
    selection = select_gallery_latents(features)
    assert latents_of(selection, "text_only") == [] and latents_of(selection, "ImgD") == []
    assert len(latents_of(selection, "CrossD")) == 4


# --- image grid -------------------------------------------------------------------------------

def test_image_grid_size_for_three_tiles(tmp_path):
    images = [Image.new("RGB", (40, 20), "red"), Image.new("L", (10, 30)),
              Image.new("RGBA", (64, 64), (0, 0, 255, 128))]
    path = image_grid(images, tmp_path / "grid.png", columns=8, tile=32)
    assert path.read_bytes()[:4] == PNG_MAGIC
    with Image.open(path) as grid:
        assert grid.size == (3 * 32, 32)
        assert grid.getpixel((16, 16)) == (255, 0, 0)
    assert [p.name for p in tmp_path.iterdir()] == ["grid.png"]


def test_image_grid_wraps_rows(tmp_path):
    images = [Image.new("RGB", (8, 8))] * 10
    with Image.open(image_grid(images, tmp_path / "g.png", columns=4, tile=10)) as grid:
        assert grid.size == (40, 30)


def test_image_grid_empty_is_placeholder(tmp_path):
    with Image.open(image_grid([], tmp_path / "empty.png", tile=96)) as grid:
        assert grid.size == (288, 48)
        assert any(low != high for low, high in grid.getextrema())


def test_image_grid_rejects_bad_layout(tmp_path):
    with pytest.raises(ValueError):
        image_grid([], tmp_path / "bad.png", columns=0)


# --- page -------------------------------------------------------------------------------------

def top_samples(latents) -> tuple[dict, dict]:
    images = {latent: [(Image.new("RGB", (16, 16), (latent * 10, 0, 0)), 1.0 / (k + 1))
                       for k in range(3)] for latent in latents}
    texts = {latent: [(f"caption {latent} <script>alert(1)</script>", 0.75), ("a & b", 0.5)]
             for latent in latents}
    return images, texts


def image_sources(page: str) -> list[str]:
    return re.findall(r'<img src="([^"]+)"', page)


def test_page_has_every_latent_and_existing_images(tmp_path):
    features = make_features()
    page_path = tmp_path / "report" / "galleries.html"
    images, texts = top_samples(features["latent"])
    del images[9]  # a latent without images gets the placeholder grid
    entries = write_galleries(features, images, texts, page_path, per_gallery=2)
    page = page_path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    for entry in entries:
        assert f"Latent {entry.latent}</h3>" in page
    for spec in GALLERIES.values():
        assert spec.figure in page
    sources = image_sources(page)
    assert len(sources) == len(entries)
    for src in sources:
        assert not src.startswith(("/", "http"))
        assert (page_path.parent / urllib.parse.unquote(src)).is_file()
    assert re.search(r'<img src="[^"]+" alt="top activating images of latent \d+', page)
    assert "image_only_9.png" in page and "no activating images</figcaption>" in page


def test_page_escapes_text_and_shows_stats(tmp_path):
    features = make_features()
    selection = pd.DataFrame({"gallery": ["bimodal_high", "text_only"], "latent": [0, 13]})
    images, texts = top_samples([0, 13])
    page_path = tmp_path / "page.html"
    entries = gallery_entries(features, selection, images, texts, page_path, image_dir="grids")
    assert (tmp_path / "grids" / "bimodal_high_0.png").is_file()
    assert entries[0].stats["gt_concept"] == "red" and "gt_auc" not in entries[1].stats
    assert entries[0].image_activations == pytest.approx([1.0, 0.5, 1 / 3])
    write_gallery_page(entries, page_path, "Galleries <test>", "intro & more")
    page = page_path.read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "caption 0 &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "a &amp; b" in page and "Galleries &lt;test&gt;" in page
    assert "μ = 0.5" in page and "energy = 6" in page and "ground-truth concept = red" in page
    assert page.count("<ol") == 2 and page.count("<li><span") == 4


def test_empty_galleries_render_a_note(tmp_path):
    entry = GalleryEntry(gallery="ImgD", latent=3, grid_src="x.png")
    page_path = tmp_path / "page.html"
    write_gallery_page([entry], page_path, "title", "intro")
    page = page_path.read_text(encoding="utf-8")
    assert page.count(NO_LATENTS_TEXT) == len(GALLERIES) - 1
    assert "no activating texts" in page
    write_gallery_page([], page_path, "title", "intro")
    assert page_path.read_text(encoding="utf-8").count(NO_LATENTS_TEXT) == len(GALLERIES)
