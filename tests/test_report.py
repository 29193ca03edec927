"""Atomic writes, similarity samples and histograms, and the HTML report."""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crossmodal.atomic import atomic_path, write_text_atomic
from crossmodal.report import build_report, cosine_similarity_samples, plot_similarity_histograms
from crossmodal.report.figures import (
    IMAGE_IMAGE,
    MATCHING_IMAGE_TEXT,
    RANDOM_IMAGE_TEXT,
    TEXT_TEXT,
    WHITE_NOISE,
    sample_distinct_pairs,
)
from crossmodal.report.html import OTHER_RESULTS

PNG_MAGIC = b"\x89PNG"


# --- atomic writes ----------------------------------------------------------------------------

def test_atomic_path_renames_on_success(tmp_path):
    target = tmp_path / "nested" / "dir" / "figure.png"
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp.suffix == ".png" and tmp != target
        tmp.write_bytes(b"done")
        assert not target.exists()
    assert target.read_bytes() == b"done"
    assert list(target.parent.iterdir()) == [target]


def test_atomic_path_leaves_nothing_on_exception(tmp_path):
    target = tmp_path / "table.csv"
    with pytest.raises(RuntimeError, match="boom"), atomic_path(target) as tmp:
        tmp.write_text("partial")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_keeps_old_file_on_exception(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("new")
        raise RuntimeError
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_write_text_atomic(tmp_path):
    target = tmp_path / "sub" / "page.html"
    write_text_atomic(target, "héllo")
    write_text_atomic(target, "replaced")
    assert target.read_text(encoding="utf-8") == "replaced"
    assert list(target.parent.iterdir()) == [target]


# --- similarity samples -----------------------------------------------------------------------

def test_sample_distinct_pairs_never_pairs_a_row_with_itself():
    i, j = sample_distinct_pairs(4, 1000, np.random.default_rng(0))
    assert len(i) == 12  # all 4 * 3 ordered pairs, no repeats
    assert np.all(i != j)
    assert len(set(zip(i.tolist(), j.tolist()))) == 12


def test_matching_identical_embeddings_have_similarity_one():
    embeddings = np.random.default_rng(1).normal(size=(50, 8))
    samples = cosine_similarity_samples(embeddings, 3.0 * embeddings, n_pairs=20)
    assert list(samples) == [IMAGE_IMAGE, TEXT_TEXT, RANDOM_IMAGE_TEXT, MATCHING_IMAGE_TEXT,
                            WHITE_NOISE]
    np.testing.assert_allclose(samples[MATCHING_IMAGE_TEXT], 1.0)
    assert all(len(values) == 20 for values in samples.values())


def test_distinct_one_hot_rows_give_zero_similarity_off_the_diagonal():
    one_hot = np.eye(30)
    samples = cosine_similarity_samples(one_hot, one_hot, n_pairs=500)
    for name in (IMAGE_IMAGE, TEXT_TEXT, RANDOM_IMAGE_TEXT):
        np.testing.assert_array_equal(samples[name], 0.0)
    np.testing.assert_array_equal(samples[MATCHING_IMAGE_TEXT], 1.0)
    assert len(samples[MATCHING_IMAGE_TEXT]) == 30  # at most N matching pairs


def test_samples_are_seeded():
    rng = np.random.default_rng(2)
    images, texts = rng.normal(size=(40, 5)), rng.normal(size=(40, 5))
    first = cosine_similarity_samples(images, texts, n_pairs=100, seed=7)
    second = cosine_similarity_samples(images, texts, n_pairs=100, seed=7)
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])


def test_mismatched_shapes_are_rejected():
    with pytest.raises(ValueError, match="must both be"):
        cosine_similarity_samples(np.ones((3, 2)), np.ones((4, 2)))


def test_histogram_plot_writes_a_png(tmp_path):
    rng = np.random.default_rng(3)
    samples = cosine_similarity_samples(rng.normal(size=(40, 6)), rng.normal(size=(40, 6)),
                                        n_pairs=200)
    target = tmp_path / "figures" / "similarity_toy.png"
    plot_similarity_histograms(samples, target, title="toy")
    assert target.read_bytes().startswith(PNG_MAGIC)
    assert list(target.parent.iterdir()) == [target]


# --- HTML report ------------------------------------------------------------------------------

def write_png(path: Path) -> None:
    plot_similarity_histograms({"a": np.array([0.1, 0.2, 0.3])}, path, title="a")


def anchors_resolve(page: str) -> bool:
    links = set(re.findall(r'href="#([^"]+)"', page))
    ids = set(re.findall(r'id="([^"]+)"', page))
    return bool(links) and links <= ids


@pytest.fixture
def results(tmp_path):
    tables, figures = tmp_path / "results" / "tables", tmp_path / "results" / "figures"
    tables.mkdir(parents=True)
    pd.DataFrame({"encoder": ["toy-a", "toy-b"], "recall@1": [0.123456789, 0.5]}).to_csv(
        tables / "encoders.csv", index=False)
    pd.DataFrame({"probe": ["x"], "score": [42]}).to_csv(tables / "unclaimed.csv", index=False)
    write_png(figures / "similarity_toy-a.png")
    return tmp_path / "results"


def test_report_shows_tables_figures_and_other_results(results):
    out = results / "report" / "index.html"
    build_report(results / "tables", results / "figures", out, {"config hash": "abc123"})
    page = out.read_text(encoding="utf-8")
    assert "<title>crossmodal report</title>" in page and "abc123" in page
    assert "toy-a" in page and "0.1235" in page  # 4 significant digits
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert sources == ["../figures/similarity_toy-a.png"]
    assert (out.parent / urllib.parse.unquote(sources[0])).resolve().is_file()
    assert anchors_resolve(page)
    foundations = page.index("<h2>Foundations — encoders and dictionaries</h2>")
    other = page.index(f"<h2>{OTHER_RESULTS}</h2>")
    heading = page.index('<h3 id="table-encoders">paper B table 6 — every encoder has a modality')
    assert foundations < heading < other < page.index('<h3 id="table-unclaimed">unclaimed.csv')
    assert list(out.parent.iterdir()) == [out]


def test_report_leads_with_the_claims_and_ends_with_the_metadata(results):
    out = results / "report" / "index.html"
    build_report(results / "tables", results / "figures", out, {"config hash": "abc123"})
    page = out.read_text(encoding="utf-8")
    claims, metadata = page.index("<h2>Paper claims</h2>"), page.index("<h2>Run metadata</h2>")
    assert claims < page.index("<h2>Contents</h2>") < page.index("<h2>Foundations") < metadata
    assert page.index("<h2>Paper claims</h2>") < page.index("<h3")  # before any table
    # every claim has a row; the one whose table is shown links to it
    assert page.count('<td class="evidence">') == 21
    assert '<a href="#table-encoders">table 6</a>' in page
    assert "paperB_table4.csv was not produced" in page


def test_tables_fold_intervals_into_their_column_and_sort_in_paper_order(tmp_path):
    tables = tmp_path / "tables"
    tables.mkdir()
    for number in (10, 2, 9):
        pd.DataFrame({"model": ["toy"], "Q": [0.5], "Q ±": [0.0123]}).to_csv(
            tables / f"paperB_table{number}.csv", index=False)
    out = tmp_path / "index.html"
    build_report(tables, tmp_path / "figures", out, {})
    page = out.read_text(encoding="utf-8")
    assert "<td>0.5 ± 0.012</td>" in page and "<th>Q ±</th>" not in page
    heads = [page.index(f'<h3 id="table-paperb-table{n}">') for n in (2, 9, 10)]
    assert heads == sorted(heads)


def test_figures_carry_their_caption_and_subject(tmp_path):
    figures, captions = tmp_path / "figures", tmp_path / "captions"
    captions.mkdir()
    (captions / "energy.rst").write_text("Paper B figure 2: the energies.\n\nMore.", "utf-8")
    write_png(figures / "energy_toyclip.sae_a.png")
    out = tmp_path / "report" / "index.html"
    build_report(tmp_path / "tables", figures, out, {}, captions_dir=captions)
    page = out.read_text(encoding="utf-8")
    assert ("<figcaption>toyclip / sae_a: Paper B figure 2: the energies. "
            "<code>energy_toyclip.sae_a.png</code></figcaption>") in page
    assert "More." not in page


def test_report_escapes_metadata(tmp_path):
    out = tmp_path / "index.html"
    build_report(tmp_path, tmp_path, out, {"<key>": "a & b"})
    page = out.read_text(encoding="utf-8")
    assert "&lt;key&gt;" in page and "a &amp; b" in page and "<key>" not in page


@pytest.mark.parametrize("make_dirs", [True, False])
def test_report_without_results_still_has_metadata(tmp_path, make_dirs):
    tables, figures = tmp_path / "tables", tmp_path / "figures"
    if make_dirs:
        tables.mkdir()
        figures.mkdir()
    out = tmp_path / "report" / "index.html"
    build_report(tables, figures, out, {"wall time": "12 s"})
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "wall time" in page and "12 s" in page
    assert "<h2>Encoders</h2>" not in page and OTHER_RESULTS not in page
    assert anchors_resolve(page)


def test_white_noise_reference_has_variance_one_over_d():
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(400, 64))
    samples = cosine_similarity_samples(embeddings, embeddings, n_pairs=400, seed=0)
    noise = samples[WHITE_NOISE]
    assert abs(noise.mean()) < 0.03
    assert noise.var() == pytest.approx(1 / 64, rel=0.25)


# --- run metadata: wall time per rule ------------------------------------------------------------

def write_benchmark(path: Path, seconds: float) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"s\th:m:s\tmax_rss\n{seconds}\t0:00:01\t10.0\n")
    return str(path)


def test_wall_time_is_summed_per_rule(tmp_path):
    from crossmodal.report.metadata import run_metadata, wall_time_per_rule

    bench = tmp_path / "results" / "benchmarks"
    files = {write_benchmark(bench / "dictionaries/toy/sae.tsv", 2.0): "train_dictionary",
             write_benchmark(bench / "dictionaries/toy/topk.tsv", 3.5): "train_dictionary",
             write_benchmark(bench / "encoder_table.tsv", 0.25): "encoder_table"}
    assert wall_time_per_rule(files) == {"encoder_table": (1, 0.25), "train_dictionary": (2, 5.5)}
    assert wall_time_per_rule(list(files)) == {"dictionaries": (2, 5.5),
                                               "encoder_table": (1, 0.25)}  # rule from the path
    metadata = run_metadata({"seed": 0}, files)
    assert metadata["wall time train_dictionary"] == "5.5 s (2 jobs)"
    assert metadata["wall time encoder_table"] == "0.2 s (1 job)"
    assert metadata["wall time, all rules"] == "5.8 s (3 jobs)"


def test_a_bad_benchmark_file_is_one_line(tmp_path):
    from crossmodal.report.metadata import benchmark_seconds

    bad = tmp_path / "results" / "benchmarks" / "x.tsv"
    bad.parent.mkdir(parents=True)
    bad.write_text("seconds\n1\n")
    with pytest.raises(ValueError, match=r"x\.tsv: not a snakemake benchmark file .*rerun") as e:
        benchmark_seconds([bad])
    assert "\n" not in str(e.value)


class FakeOutput:
    def __init__(self, pattern: str):
        self.regex = re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(pattern)) + "$")

    def match(self, target: str):
        return self.regex.match(target)


class FakeRule:
    """The slice of snakemake's Rule that upstream_benchmarks uses."""

    def __init__(self, name, output, inputs, benchmark=None):
        self.name, self.output, self._inputs = name, [FakeOutput(output)], inputs
        self.benchmark = benchmark

    def get_wildcards(self, target):
        return self.output[0].match(target).groupdict()

    def expand_benchmark(self, wildcards):
        return self.benchmark.format(**wildcards)

    def expand_input(self, wildcards):
        return [i.format(**wildcards) for i in self._inputs], {}, {}, False


def test_upstream_benchmarks_walks_inputs_and_skips_the_report():
    from crossmodal.report.metadata import upstream_benchmarks

    rules = [FakeRule("report", "report.html", ["table_{x}.csv"], "b/report.tsv"),
             FakeRule("table", "table_{x}.csv", ["model_{x}.pt", "raw.txt"], "b/table/{x}.tsv"),
             FakeRule("train", "model_{x}.pt", ["raw.txt"], "b/train/{x}.tsv"),
             FakeRule("nobench", "extra.txt", ["model_a.pt"])]
    found = upstream_benchmarks(rules, ["table_a.csv", "extra.txt", "report.html"])
    assert found == {"b/table/a.tsv": "table", "b/train/a.tsv": "train"}


def test_conventions_line_names_the_primary_convention_and_the_repeated_one(tmp_path):
    from crossmodal.report.html import conventions_line
    table = tmp_path / "paperB_table1.csv"
    pd.DataFrame({"metric": ["MSE (↓)", "ρ (↑)", "ρ (↑) [paper]"],
                  "conventions": ["both", "authors", "paper"],
                  "toyclip SAE": [0.1, 2.0, 1.5]}).to_csv(table, index=False)
    line = conventions_line([table])
    assert "<b>authors</b> convention" in line and "[paper]" in line
    plain = tmp_path / "encoders.csv"
    pd.DataFrame({"encoder": ["toyclip"]}).to_csv(plain, index=False)
    assert conventions_line([plain]) == ""


def test_write_table_folds_intervals_into_the_markdown_only(tmp_path):
    from crossmodal.report.tables import merged_intervals, write_table

    table = pd.DataFrame({"defence": ["none", "TextD"], "success_mean": [0.7, 0.3],
                          "success_mean ±": [0.4968, np.nan], "runs": [3, 1]})
    merged = merged_intervals(table, digits=3)
    assert list(merged.columns) == ["defence", "success_mean", "runs"]
    assert merged["success_mean"].tolist() == ["0.7 ± 0.5", "0.3"]  # NaN width: the mean alone
    write_table(table, tmp_path / "t.csv", tmp_path / "t.md")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "t.csv"), table)
    markdown = (tmp_path / "t.md").read_text()
    assert "0.7 ± 0.5" in markdown and "success_mean ±" not in markdown
