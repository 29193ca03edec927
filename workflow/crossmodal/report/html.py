"""The HTML report (``results/report/index.html``), driven by the files that exist.

The page opens with the claims table: every claim of both papers (``verdicts.CLAIMS``, paper
order) with our numbers and their 95 % intervals and one of four outcomes. Then each ``Section``
of ``SECTIONS`` (paper A's sections, paper B's, then the gates of the trained models) presents
the CSV tables of ``tables_dir`` and the images of ``figures_dir`` it claims by glob pattern on
the file name, tables in paper order (natural order: table 2 before table 10) with a title, each
figure with its caption (the ``report/*.rst`` text the rule attaches to it, headed by the
encoder / dictionary the file is for). Files no section claims go into "Other results", so
nothing is ever hidden; the run metadata comes last. A column ``C ±`` is shown inside column C
as "value ± half-width". Only the top level of each directory is read; temporary files of
in-progress atomic writes are skipped. A small script marks images that fail to load (class
``broken``, ``data-broken-images`` on ``<body>``), so a reader — or a headless browser — sees a
missing figure at once.
"""

from __future__ import annotations

import html
import os
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

import pandas as pd

from crossmodal.atomic import write_text_atomic
from crossmodal.report import verdicts
from crossmodal.report.tables import merged_intervals

TABLE_SUFFIXES = (".csv",)
FIGURE_SUFFIXES = (".png", ".svg", ".jpg", ".jpeg", ".gif")
TEMPORARY_NAME = re.compile(r"\.tmp-\d+-[0-9a-f]+")
OTHER_RESULTS = "Other results"
METADATA_ID = "run-metadata"
CLAIMS_ID = "paper-claims"
VERDICT_CLASSES = {verdicts.HOLDS: "holds", verdicts.FAILS: "fails",
                   verdicts.INCONCLUSIVE: "inconclusive",
                   verdicts.NOT_COMPARABLE: "not-comparable"}

CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; padding: 0 1em;
       color: #222; line-height: 1.4; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f0f0f0; }
td:first-child, th:first-child { text-align: left; }
table.metadata td { text-align: left; font-family: monospace; }
figure { display: inline-block; margin: 0.5em 1em 1.5em 0; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 0.85em; color: #555; }
.error { color: #a00; }
.verdict { font-weight: 600; margin: 0.2em 0 0.4em; }
.verdict.holds { color: #1a7f37; }
.verdict.fails { color: #b35900; }
.verdict.inconclusive { color: #8a6d00; }
.verdict.not-comparable { color: #666; }
table.claims td, table.claims th { text-align: left; vertical-align: top; }
table.claims td:nth-child(1), table.claims td:nth-child(2), table.claims td:nth-child(5) {
  white-space: nowrap; }
table.claims td.evidence { font-size: 0.85em; }
figure { max-width: 46em; }
img.broken { outline: 3px solid #a00; min-width: 10em; min-height: 3em; }
"""
# Marks every image that did not load; <body data-images / data-broken-images> sum it up.
IMAGE_CHECK = """
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var broken = images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
  broken.forEach(function (i) { i.classList.add("broken"); });
  document.body.setAttribute("data-images", String(images.length));
  document.body.setAttribute("data-broken-images", String(broken.length));
});
"""


@dataclass(frozen=True)
class Section:
    """A report section: heading, explanatory text, and the file-name glob patterns of the
    tables (in ``tables_dir``) and figures (in ``figures_dir``) it presents."""

    title: str
    description: str
    table_patterns: tuple[str, ...] = ()
    figure_patterns: tuple[str, ...] = ()


SECTIONS: list[Section] = [
    Section(
        title="Paper A §2 — modality dominance of the latents",
        description="Paper A figure 1: the modality dominance score of every latent of CLIP, "
                    "DeCLIP and the dictionaries trained on CLIP, split into ImgD, CrossD and "
                    "TextD. Look for CLIP's skew towards images and a more balanced split for "
                    "DeCLIP and the SAE.",
        figure_patterns=("mds_groups.png",),
    ),
    Section(
        title="Paper A §3 — monosemanticity",
        description="EmbSim and WinRate of the top-activating images and captions of every latent "
                    "against random ones (eq. 5; table 4, figure 2), Visual and Textual Mono of the "
                    "MDS groups (table 5, figure 3), Mono over dictionary training (figure 13), the "
                    "ICLR version's modality-classification check (its table 1) and, on toyworld, "
                    "Mono against the known concepts. The image embedding model h is the toyworld "
                    "image expert, gated per family (image_expert_quality).",
        table_patterns=("paperA_table4.csv", "paperA_table5.csv", "paperA_iclr_table1.csv",
                        "paperA_mono_groundtruth.csv", "image_expert_quality.csv"),
        figure_patterns=("mono_*.png",),
    ),
    Section(
        title="Paper A §4 — case studies",
        description="The attribute pattern across modalities (tables 1, 2, 6 and figure 7 on "
                    "toyworld's day/night attribute, with the configured truth), the "
                    "modality-specific adversarial defence (table 3) and text-to-image control "
                    "through an embedding-conditioned decoder (figures 10, 14).",
        table_patterns=("paperA_table[1236].csv", "attribute_*.csv", "adversarial_*.csv",
                        "control_*.csv"),
        figure_patterns=("attribute_*.png", "adversarial_*.png", "control_*.png"),
    ),
    Section(
        title="Paper B §3–4 — the modality score and the geometry of the dictionaries",
        description="Paper B's energies and modality score μ with the τ rule (figure 2), the "
                    "high-energy unimodal atoms (figures 16–17), the bridge atoms, the metric "
                    "tables 1, 3 and 4, the toy data-generating process of appendix C (table 5) "
                    "and, on toyworld, how well each dictionary recovers the known concepts.",
        table_patterns=("paperB_table[1345].csv", "groundtruth_recovery.csv",
                        "groundtruth_concepts.csv"),
        figure_patterns=("energy_*.png", "unimodal_*.png", "bridge_*.png"),
    ),
    Section(
        title="Paper B §5 — interventions",
        description="Semantic vector arithmetic on toyworld's edit triplets (tables 2, 7, 8; "
                    "figures 5, 6, 23) and closing the modality gap through the bimodal atoms "
                    "(tables 9–11 on the train / test / shifted splits, the LAION / COCO / "
                    "ImageNet analogues; table 12 against Schrodi et al. and baselines A–C; "
                    "figures 4, 10, 24, 25).",
        table_patterns=("paperB_table[2789].csv", "paperB_table1[012].csv"),
        figure_patterns=("arithmetic_*.png", "gap_*.png", "embedding_pca_*.png"),
    ),
    Section(
        title="Foundations — encoders and dictionaries",
        description="What every trained model must have learned before the tables above mean "
                    "anything. Encoders: zero-shot accuracy per bimodal concept family, recall@k "
                    "within batches of 256, the modality gap (paper B table 6, figure 11) and, on "
                    "toyworld, a linear probe of every concept family from image and from text "
                    "embeddings against what the family's modality predicts, each gate pass / "
                    "fail. Dictionaries: size, β, reconstruction, active latents over training "
                    "(paper A figures 11–12), the β sweep (paper B figures 7–8) and the gates that "
                    "say whether each Matching Pursuit SAE learned a dictionary rather than "
                    "storing training examples.",
        table_patterns=("encoders.csv", "encoder_probes.csv", "dictionaries.csv",
                        "dictionary_gates.csv"),
        figure_patterns=("similarity_*.png", "active_latents.png", "beta_sweep_*.png"),
    ),
]

# figure file-name pattern → the caption file (report/*.rst) its rule attaches to it
FIGURE_CAPTIONS: dict[str, str] = {
    "mds_groups.png": "mds.rst",
    "mono_models.png": "mono_models.rst",
    "mono_modality.png": "mono_modality.rst",
    "mono_training.png": "mono_training.rst",
    "attribute_*.png": "attribute_examples.rst",
    "control_*.png": "control.rst",
    "energy_*.png": "energy.rst",
    "unimodal_*.png": "unimodal.rst",
    "bridge_*.png": "bridge.rst",
    "arithmetic_example_*.png": "arithmetic_example.rst",
    "arithmetic_ood_*.png": "arithmetic_ood.rst",
    "gap_illustration.png": "gap_illustration.rst",
    "gap_knn_*.png": "gap_knn.rst",
    "embedding_pca_*.png": "embedding_pca.rst",
    "similarity_*.png": "similarity.rst",
    "active_latents.png": "dictionaries.rst",
    "beta_sweep_*.png": "beta_sweep.rst",
}
# result file → its title when no paper claim names it
TABLE_TITLES: dict[str, str] = {
    "encoders.csv": "Encoders: zero-shot, recall, modality gap and gates (paper B table 6's DiM)",
    "encoder_probes.csv": "Encoders: linear probe of every toyworld family from each modality",
    "dictionaries.csv": "Every trained dictionary",
    "dictionary_gates.csv": "What each gated dictionary learned (pass / fail)",
    "groundtruth_recovery.csv": "Recovery of toyworld's known concepts per dictionary",
    "groundtruth_concepts.csv": "Recovery per concept",
    "paperA_mono_groundtruth.csv": "Mono against toyworld's ground truth",
    "image_expert_quality.csv": "Gate of the image expert h",
    "attribute_asymmetry.csv": "Attribute cues: measured against the configured truth",
    "adversarial_runs.csv": "Adversarial defence: every run behind table 3",
    "control_decoder_quality.csv": "Gate of case study 3's decoder",
}
GALLERIES_ID = "galleries"


@dataclass(frozen=True)
class FilledSection:
    """A section with the files it claimed and its anchor id on the page."""

    section: Section
    anchor: str
    tables: list[Path]
    figures: list[Path]


def list_result_files(directory: str | Path | None, suffixes: Sequence[str]) -> list[Path]:
    """Sorted top-level files of ``directory`` with one of ``suffixes`` (empty if the
    directory is missing), skipping hidden files and in-progress atomic temporaries."""
    if directory is None or not Path(directory).is_dir():
        return []
    return sorted(p for p in Path(directory).iterdir()
                  if p.is_file() and p.suffix.lower() in suffixes
                  and not p.name.startswith(".") and not TEMPORARY_NAME.search(p.name))


def claim(files: list[Path], patterns: Sequence[str], claimed: set[Path]) -> list[Path]:
    """The files not yet in ``claimed`` whose name matches one of ``patterns``; they are added
    to ``claimed``."""
    mine = [f for f in files if f not in claimed and any(fnmatchcase(f.name, p) for p in patterns)]
    claimed.update(mine)
    return mine


def slug(title: str, taken: set[str]) -> str:
    """A unique HTML id for ``title`` (``section-`` + lowercase words joined by '-')."""
    base = "section-" + (re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "untitled")
    anchor, n = base, 2
    while anchor in taken:
        anchor, n = f"{base}-{n}", n + 1
    taken.add(anchor)
    return anchor


def fill_sections(tables: list[Path], figures: list[Path],
                  sections: Sequence[Section]) -> list[FilledSection]:
    """The sections that claimed at least one file, in order, followed by "Other results"
    holding every file no section claimed (when there is any)."""
    claimed: set[Path] = set()
    taken = {METADATA_ID, CLAIMS_ID, GALLERIES_ID}
    filled = []
    for section in sections:
        mine_tables = sorted(claim(tables, section.table_patterns, claimed), key=table_order)
        mine_figures = sorted(claim(figures, section.figure_patterns, claimed),
                              key=lambda f: natural_key(f.name))
        if mine_tables or mine_figures:
            filled.append(FilledSection(section, slug(section.title, taken), mine_tables,
                                        mine_figures))
    rest_tables = [t for t in tables if t not in claimed]
    rest_figures = [f for f in figures if f not in claimed]
    if rest_tables or rest_figures:
        other = Section(OTHER_RESULTS, "Results that no section of the report presents yet.")
        filled.append(FilledSection(other, slug(OTHER_RESULTS, taken), rest_tables, rest_figures))
    return filled


def natural_key(name: str) -> list:
    """Sort key reading digit runs as numbers: ``table2`` before ``table10``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def table_order(path: Path) -> tuple:
    """Paper order: the files of the claims first, in the claims' order, then the rest by name."""
    sources = [c.source for c in verdicts.CLAIMS]
    return (sources.index(path.name) if path.name in sources else len(sources),
            natural_key(path.name))


def table_title(name: str) -> str:
    """``paper B table 10 — <claim>`` for a file a claim reads, else its title or its name."""
    claims = [c for c in verdicts.CLAIMS if c.source == name]
    table_claims = [c for c in claims if c.item.startswith("table")] or claims
    if table_claims:
        return f"{table_claims[0].label} — {table_claims[0].statement}"
    return TABLE_TITLES.get(name, name)


def format_float(value: float) -> str:
    """``value`` with 4 significant digits."""
    return f"{value:.4g}"


def read_table(path: Path) -> pd.DataFrame | str:
    """The CSV at ``path``, or the message saying why it cannot be read."""
    try:
        return pd.read_csv(path)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as error:
        return f"could not read this table: {error}"


def table_anchor(path: Path) -> str:
    """The HTML id of a table's heading: ``table-`` + its file stem (lowercase, '-' joined)."""
    return "table-" + (re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-") or "untitled")


def table_verdict(path: Path, frame: pd.DataFrame | str) -> tuple[str, str]:
    """(CSS class, text) of the table's verdict; a table that cannot be read or checked gives
    class "error" and the one-line reason."""
    if isinstance(frame, str):
        return "error", f"no verdict: {frame}"
    try:
        verdict = verdicts.verdict_for(path.name, frame)
    except verdicts.VerdictError as error:
        return "error", f"no verdict: {error}"
    return VERDICT_CLASSES[verdict.status], str(verdict)


def mds_flag_line(frame: pd.DataFrame | str) -> str:
    """A warning paragraph naming the models whose MDS grouping is degenerate (a non-empty
    ``mds_flag`` cell, e.g. an empty group or σ(R) = 0); empty when none is."""
    if isinstance(frame, str) or "mds_flag" not in frame or "model" not in frame:
        return ""
    flagged = frame[frame["mds_flag"].fillna("").astype(str) != ""]
    notes = "; ".join(f"{row.model}: {row.mds_flag}" for row in flagged.itertuples())
    return (f'<p class="error">Degenerate MDS grouping — {html.escape(notes)}</p>'
            if notes else "")


def render_table(path: Path) -> str:
    """HTML for one CSV file: its title as h3 (the paper item and claim it reproduces), the
    file name, its verdict, then the table with intervals folded in (or the error reading it)."""
    frame = read_table(path)
    title = html.escape(table_title(path.name))
    kind, text = table_verdict(path, frame)
    parts = [f'<h3 id="{table_anchor(path)}">{title}</h3>',
             f'<p class="file"><code>{html.escape(path.name)}</code></p>',
             f'<p class="verdict {kind}">{html.escape(text)}</p>', mds_flag_line(frame)]
    if isinstance(frame, str):
        parts.append(f'<p class="error">{html.escape(frame)}</p>')
    else:
        parts.append(merged_intervals(frame).to_html(index=False, float_format=format_float,
                                                    border=0))
    return "\n".join(part for part in parts if part)


def render_claims(filled: list[FilledSection]) -> str:
    """HTML section with one row per claim of both papers (paper order): the paper, the item
    (linked to its table when the page shows it), the claim, our numbers with their 95 %
    intervals and the outcome; a count of the outcomes above it."""
    shown = {t.name: t for f in filled for t in f.tables}
    claims = verdicts.claims_frame({name: read_table(path) for name, path in shown.items()})
    counts = claims["outcome"].value_counts()
    summary = ", ".join(f"{counts.get(o, 0)} {o}" for o in verdicts.OUTCOMES)
    rows = []
    for row in claims.itertuples():
        item = html.escape(row.item)
        if row.source in shown:
            item = f'<a href="#{table_anchor(shown[row.source])}">{item}</a>'
        kind = VERDICT_CLASSES[row.outcome]
        rows.append(f"<tr><td>{html.escape(row.paper)}</td><td>{item}</td>"
                    f"<td>{html.escape(row.claim)}</td>"
                    f'<td class="evidence">{html.escape(row.evidence)}</td>'
                    f'<td class="verdict {kind}">{html.escape(row.outcome)}</td></tr>')
    body = ('<table class="claims">\n<tr><th>paper</th><th>item</th><th>claim</th>'
            "<th>our numbers (95 % intervals)</th><th>outcome</th></tr>\n"
            + "\n".join(rows) + "\n</table>")
    return (f'<section id="{CLAIMS_ID}">\n<h2>Paper claims</h2>\n<p>Does each claim of the '
            f"two papers hold on this run? {html.escape(summary)}. Toyworld is synthetic, so a "
            "claim is tested as the paper states it qualitatively (an ordering, a sign) on our "
            "numbers, comparing 95 % intervals: <b>holds</b> when the paper's direction is "
            "beyond the intervals, <b>does not hold</b> when the opposite is, "
            "<b>inconclusive</b> when they overlap, <b>not comparable</b> when a value is "
            "missing or saturated. The rule of each claim is documented in "
            "<code>crossmodal.report.verdicts</code>.</p>\n"
            f"{body}\n</section>")


def relative_url(target: Path, page_dir: Path) -> str:
    """URL of ``target`` relative to the directory of the page (forward slashes, quoted)."""
    relative = os.path.relpath(Path(target).resolve(), Path(page_dir).resolve())
    return urllib.parse.quote(relative.replace(os.sep, "/"))


def caption_text(path: Path, captions_dir: Path | None) -> str:
    """The caption of a figure: the encoder / dictionary its name holds (the part the file
    pattern's ``*`` matches, e.g. ``toyclip / sae_a``), then the first paragraph of the
    ``report/*.rst`` caption its rule attaches to it; the file name when there is none."""
    for pattern, rst in FIGURE_CAPTIONS.items():
        if not fnmatchcase(path.name, pattern):
            continue
        subject = ""
        if "*" in pattern:
            prefix, suffix = pattern.split("*", 1)
            subject = path.name[len(prefix): len(path.name) - len(suffix)].replace(".", " / ")
        text = ""
        if captions_dir is not None and (Path(captions_dir) / rst).is_file():
            paragraph = (Path(captions_dir) / rst).read_text(encoding="utf-8").strip()
            text = " ".join(paragraph.split("\n\n")[0].split()).replace("``", "")
        return ": ".join(part for part in (subject, text) if part) or path.name
    return path.name


def render_figure(path: Path, page_dir: Path, captions_dir: Path | None = None) -> str:
    """HTML ``<figure>`` for one image, linked relative to the page's directory, with its
    caption and its file name."""
    src = html.escape(relative_url(path, page_dir))
    name = html.escape(path.name)
    caption = html.escape(caption_text(path, captions_dir))
    file_line = "" if caption == name else f" <code>{name}</code>"
    return (f'<figure><img src="{src}" alt="{name}">'
            f"<figcaption>{caption}{file_line}</figcaption></figure>")


def conventions_line(tables: Sequence[Path]) -> str:
    """One sentence naming the convention(s) of paper B's modality metrics in ``tables`` (their
    ``conventions`` column; "both" rows do not depend on it); empty when none has the column."""
    names: dict[str, None] = {}
    for path in tables:
        frame = read_table(path)
        if isinstance(frame, pd.DataFrame) and "conventions" in frame:
            names.update(dict.fromkeys(str(v) for v in frame["conventions"] if str(v) != "both"))
    if not names:
        return ""
    primary, *others = names
    extra = "".join(f"; rows marked [{name}] repeat them under the {name} convention"
                    for name in others)
    return (f"<p class=\"conventions\">Paper B's ρ, FDA and p_acc in these tables follow the "
            f"<b>{html.escape(primary)}</b> convention{html.escape(extra)}. The paper's numbers "
            "stand only beside rows computed the authors' way.</p>")


def render_section(filled: FilledSection, page_dir: Path,
                   captions_dir: Path | None = None) -> str:
    """HTML for one section: h2 with its anchor, description, the conventions line of paper B's
    tables, tables then figures."""
    parts = [f'<section id="{filled.anchor}">',
             f"<h2>{html.escape(filled.section.title)}</h2>",
             f"<p>{html.escape(filled.section.description)}</p>"]
    line = conventions_line(filled.tables)
    if line:
        parts.append(line)
    parts += [render_table(table) for table in filled.tables]
    parts += [render_figure(figure, page_dir, captions_dir) for figure in filled.figures]
    parts.append("</section>")
    return "\n".join(parts)


def render_metadata(metadata: Mapping[str, str]) -> str:
    """HTML for the run metadata: an h2 with its anchor and a key/value table."""
    rows = "\n".join(f"<tr><th>{html.escape(str(key))}</th><td>{html.escape(str(value))}</td></tr>"
                     for key, value in metadata.items())
    body = f'<table class="metadata">\n{rows}\n</table>' if rows else "<p>no metadata recorded</p>"
    return f'<section id="{METADATA_ID}">\n<h2>Run metadata</h2>\n{body}\n</section>'


def render_contents(filled: list[FilledSection], galleries: bool = False) -> str:
    """HTML table of contents linking to the claims, every section's anchor, the galleries
    (when there are any) and the run metadata."""
    links = [(CLAIMS_ID, "Paper claims")]
    links += [(f.anchor, f.section.title) for f in filled]
    links += [(GALLERIES_ID, "Feature galleries")] if galleries else []
    links += [(METADATA_ID, "Run metadata")]
    items = "\n".join(f'<li><a href="#{anchor}">{html.escape(title)}</a></li>'
                      for anchor, title in links)
    return f"<nav>\n<h2>Contents</h2>\n<ul>\n{items}\n</ul>\n</nav>"


def render_gallery_links(pages: Mapping[str, Path], page_dir: Path) -> str:
    """HTML section linking every feature-gallery page (paper A figures 4–6, paper B 18–22)."""
    items = "\n".join(f'<li><a href="{relative_url(Path(path), page_dir)}">{html.escape(name)}'
                      "</a></li>" for name, path in pages.items())
    return (f'<section id="{GALLERIES_ID}">\n<h2>Feature galleries</h2>\n<p>Top activating '
            "images and captions of latents sampled from each group, one page per model.</p>\n"
            f"<ul>\n{items}\n</ul>\n</section>")


def render_page(filled: list[FilledSection], metadata: Mapping[str, str], page_dir: Path,
                galleries: Mapping[str, Path] | None = None,
                captions_dir: Path | None = None) -> str:
    """The whole HTML document: the claims first, the contents, the sections in paper order,
    the galleries, the run metadata last."""
    body = [render_claims(filled), render_contents(filled, bool(galleries))]
    body += [render_section(f, page_dir, captions_dir) for f in filled]
    if galleries:
        body.append(render_gallery_links(galleries, page_dir))
    body.append(render_metadata(metadata))
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>crossmodal report</title>\n<style>{CSS}</style>\n"
            f"<script>{IMAGE_CHECK}</script>\n</head>\n<body>\n"
            "<h1>crossmodal report</h1>\n" + "\n".join(body) + "\n</body>\n</html>\n")


def build_report(tables_dir: str | Path, figures_dir: str | Path, out_path: str | Path,
                 metadata: Mapping[str, str], sections: Sequence[Section] | None = None,
                 galleries: Mapping[str, Path] | None = None,
                 captions_dir: str | Path | None = None) -> None:
    """Write the HTML report to ``out_path`` (atomically): the claims table, the contents,
    every section of ``sections`` (default ``SECTIONS``) with content and "Other results" for
    the CSV tables / images nobody claimed, links to the ``galleries`` pages (name → path),
    then the run metadata. Figure captions come from ``captions_dir`` (the repository's
    ``report/``). Missing dirs count as empty."""
    out_path = Path(out_path)
    tables = list_result_files(tables_dir, TABLE_SUFFIXES)
    figures = list_result_files(figures_dir, FIGURE_SUFFIXES)
    filled = fill_sections(tables, figures, SECTIONS if sections is None else sections)
    write_text_atomic(out_path, render_page(filled, metadata, out_path.parent, galleries,
                                            None if captions_dir is None else Path(captions_dir)))
