"""The HTML report in a real headless browser (Debian's chromium).

A synthetic results directory (a few tables, PNG figures, a gallery page) is turned into
``report/index.html``. In Python: every ``<img src>`` and every ``href`` resolves (a file that
exists, or an id on the page). In chromium: the page renders its section headings and verdicts,
and the page's own image check (``naturalWidth`` of every image after load, written into
``<body data-images data-broken-images>``) finds every image loaded — and finds the one we delete;
a screenshot of the page is not blank. Skipped where chromium is not installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import urllib.parse
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from crossmodal.report import build_report

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)),
                None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install -y chromium)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--virtual-time-budget=5000"]
FIGURES = ("similarity_toy.png", "energy_toy.sae.png", "mono_models.png")


def write_results(root: Path) -> Path:
    """A small results/ tree: three tables (one with a paper counterpart and a verdict that
    holds, one with no counterpart), three coloured PNG figures and one gallery page."""
    tables, figures = root / "tables", root / "figures"
    tables.mkdir(parents=True)
    figures.mkdir()
    pd.DataFrame({"encoder": ["toy", "paper B table 6: CLIP ViT-B/32 (COCO)"],
                  "backend": ["ToyEncoder", "reference"], "recall@1": [0.2, 0.71],
                  "gap_dim": [0.9, 0.82]}).to_csv(tables / "encoders.csv", index=False)
    pd.DataFrame({"experiment": ["experiment2", "experiment2"], "model": ["SAE", "SAE-A"],
                  "W": [0.4, 0.2], "mma": [0.3, 0.5], "paper_W": [0.396, 0.184],
                  "paper_mma": [0.29, 0.52]}).to_csv(tables / "paperB_table5.csv", index=False)
    pd.DataFrame({"concept": ["gt_shape_circle"], "auc": [0.6]}).to_csv(
        tables / "groundtruth_recovery.csv", index=False)
    for i, name in enumerate(FIGURES):
        pixels = np.zeros((60, 90, 3), dtype=np.uint8)
        pixels[..., i] = 200
        Image.fromarray(pixels).save(figures / name)
    gallery = root / "galleries" / "toy.sae" / "index.html"
    gallery.parent.mkdir(parents=True)
    gallery.write_text("<!DOCTYPE html><html><body><h1>gallery</h1></body></html>")
    return root


@pytest.fixture
def report(tmp_path) -> Path:
    results = write_results(tmp_path / "results")
    page = results / "report" / "index.html"
    build_report(results / "tables", results / "figures", page, {"config hash": "abc"},
                 galleries={"toy.sae": results / "galleries" / "toy.sae" / "index.html"})
    return page


def chromium(*args: str) -> str:
    """stdout of a headless chromium run (its stderr is dbus noise in containers)."""
    process = subprocess.run([CHROMIUM, *FLAGS, *args], capture_output=True, text=True,
                             timeout=60, check=False)
    assert process.returncode == 0, process.stderr[-2000:]
    return process.stdout


def rendered(page: Path) -> str:
    return chromium("--dump-dom", page.resolve().as_uri())


def image_counts(dom: str) -> tuple[int, int]:
    """(images, broken images) as the page's load handler wrote them on <body>."""
    body = re.search(r"<body[^>]*>", dom)[0]
    found = dict(re.findall(r'data-(images|broken-images)="(\d+)"', body))
    assert set(found) == {"images", "broken-images"}, f"the image check did not run: {body}"
    return int(found["images"]), int(found["broken-images"])


def test_every_link_and_image_resolves(report):
    page = report.read_text(encoding="utf-8")
    ids = set(re.findall(r'id="([^"]+)"', page))
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert sorted(Path(urllib.parse.unquote(s)).name for s in sources) == sorted(FIGURES)
    for link in sources + re.findall(r'href="([^"]+)"', page):
        if link.startswith("#"):
            assert link[1:] in ids, link
        else:
            assert (report.parent / urllib.parse.unquote(link)).resolve().is_file(), link


def test_chromium_renders_sections_verdicts_and_every_image(report):
    dom = rendered(report)
    geometry = "Paper B §3–4 — the modality score and the geometry of the dictionaries"
    headings = ("Paper claims", geometry, "Foundations — encoders and dictionaries",
                "Feature galleries", "Run metadata")
    positions = [dom.index(f"<h2>{heading}</h2>") for heading in headings]
    assert positions == sorted(positions)  # claims first, metadata last
    assert 'class="verdict holds"' in dom and 'class="verdict not-comparable"' in dom
    assert image_counts(dom) == (len(FIGURES), 0)


def test_chromium_flags_a_missing_image(report):
    (report.parent.parent / "figures" / FIGURES[1]).unlink()
    dom = rendered(report)
    assert image_counts(dom) == (len(FIGURES), 1)
    assert re.search(r'<img[^>]*class="broken"', dom) or re.search(r'class="broken"[^>]*>', dom)


def test_screenshot_is_not_blank(report, tmp_path):
    shot = tmp_path / "shot.png"
    chromium(f"--screenshot={shot}", "--window-size=1000,1400", report.resolve().as_uri())
    pixels = np.asarray(Image.open(shot).convert("RGB"))
    assert pixels.shape[:2] == (1400, 1000)
    assert (pixels < 240).any(axis=2).mean() > 0.005  # text, tables and figures drawn
