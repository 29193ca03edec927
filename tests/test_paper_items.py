"""docs/paper_items.md, the checklist of every table and figure of both papers, against the
workflow: for each config column, every item marked `yes` is an output its `all` plans and every
item marked `no` is not (dry runs of the default and both experiment configs)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from test_experiment_configs import dry_run, rewritten

ROOT = Path(__file__).resolve().parents[1]
CHECKLIST = ROOT / "docs" / "paper_items.md"
COLUMNS = {"default": None, "paper A": "paperA-clip-vitb32.yaml",
           "paper B": "paperB-six-models.yaml"}


def checklist_rows() -> list[dict[str, str]]:
    """The rows of every table of the checklist, keyed by the header cells, with the
    ``paper`` of the section they are in."""
    rows, header, paper = [], None, ""
    for line in CHECKLIST.read_text().splitlines():
        if line.startswith("## "):
            paper = line.removeprefix("## ")
        if not line.startswith("|"):
            header = None
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if header is None:
            header = cells
        elif not set(line) <= {"|", "-", " "}:
            rows.append({"paper": paper, **dict(zip(header, cells, strict=True))})
    return rows


def output_patterns(cell: str) -> list[re.Pattern]:
    """Each backticked output of a cell as a regex over results/ paths ({x} = any value)."""
    patterns = []
    for path in re.findall(r"`([^`]+)`", cell):
        regex = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path))
        patterns.append(re.compile(f"results/{regex}"))
    return patterns


def planned_outputs(output: str) -> set[str]:
    found = set()
    for line in output.splitlines():
        if line.strip().startswith("output: "):
            found.update(item.strip() for item in line.strip()[len("output: "):].split(","))
    return found


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, set[str]]:
    planned = {}
    for column, experiment in COLUMNS.items():
        workdir = tmp_path_factory.mktemp(column.replace(" ", "_"))
        if experiment is None:
            (workdir / "config").mkdir()
            path = workdir / "config" / "config.yaml"
            shutil.copy(ROOT / "config" / "config.yaml", path)
        else:
            _, path = rewritten(experiment, workdir)
        process = dry_run(workdir, path, "--config", "preflight=false")
        assert process.returncode == 0, process.stdout
        planned[column] = planned_outputs(process.stdout)
    return planned


@pytest.mark.parametrize("paper, tables, figures", [("Paper A", 6, 14), ("Paper B", 12, 27)])
def test_the_checklist_names_every_table_and_figure(paper, tables, figures):
    """Every table and figure number of the paper appears in one row's item."""
    named = set()
    for row in checklist_rows():
        if row["paper"] != paper:
            continue
        item = re.sub(r"\(ICLR[^)]*\)", "", row["item"])
        kind = "table" if item.startswith("table") else "figure"
        for first, last in re.findall(r"(\d+)(?:–(\d+))?", item):
            named |= {(kind, n) for n in range(int(first), int(last or first) + 1)}
    expected = {("table", n) for n in range(1, tables + 1)} | \
        {("figure", n) for n in range(1, figures + 1)}
    assert expected <= named, sorted(expected - named)


@pytest.mark.parametrize("column", list(COLUMNS))
def test_every_yes_is_planned_and_every_no_is_not(outputs, column):
    planned = outputs[column]
    wrong = []
    for row in checklist_rows():
        patterns = output_patterns(row["output"])
        if row[column] not in ("yes", "no") or not patterns:
            continue
        built = [any(p.fullmatch(path) for path in planned) for p in patterns]
        if row[column] == "yes" and not all(built):
            wrong.append(f"{row['item']}: {row['output']} is not planned")
        if row[column] == "no" and any(built):
            wrong.append(f"{row['item']}: {row['output']} is planned, the checklist says no")
    assert not wrong, "\n".join(wrong)
