"""Rule report: results/report/index.html from every table and figure of the run, with a
verdict per table and the wall time of every rule of the run (all its benchmark files)."""

from pathlib import Path

from crossmodal import runtime
from crossmodal.report import build_report
from crossmodal.report.metadata import rule_of, run_metadata


def main(snakemake):
    tables_dir = Path(snakemake.input.tables[0]).parent
    figures_dir = Path(snakemake.input.figures[0]).parent
    rules = snakemake.params.benchmark_rules  # benchmark file → rule, the same files as input
    benchmarks = {path: rules.get(path) or rule_of(path) for path in snakemake.input.benchmarks}
    metadata = run_metadata(snakemake.params.config, benchmarks)
    galleries = {Path(page).parent.name: Path(page) for page in snakemake.input.galleries}
    build_report(tables_dir, figures_dir, snakemake.output.html, metadata, galleries=galleries,
                 captions_dir=snakemake.params.captions)


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
