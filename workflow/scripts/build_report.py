"""Rule report: results/report/index.html from every table and figure of the run."""

from pathlib import Path

from crossmodal import runtime
from crossmodal.report import build_report
from crossmodal.report.metadata import run_metadata


def main(snakemake):
    tables_dir = Path(snakemake.input.tables[0]).parent
    figures_dir = Path(snakemake.input.figures[0]).parent
    metadata = run_metadata(snakemake.params.config, snakemake.input.benchmarks)
    galleries = {Path(page).parent.name: Path(page) for page in snakemake.input.galleries}
    build_report(tables_dir, figures_dir, snakemake.output.html, metadata, galleries=galleries)


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
