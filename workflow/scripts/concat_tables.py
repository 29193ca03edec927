"""Rule encoder_table: stack per-encoder rows, add the paper's reference row, write CSV
and markdown; stack the per-encoder probe tables the same way."""

import pandas as pd

from crossmodal import runtime
from crossmodal.encoder_quality import paper_reference_row
from crossmodal.report.tables import write_table


def main(snakemake):
    rows = pd.concat([pd.read_csv(path) for path in snakemake.input.rows], ignore_index=True)
    table = pd.concat([rows, pd.DataFrame([paper_reference_row()])], ignore_index=True)
    write_table(table, snakemake.output.csv, snakemake.output.markdown)
    probes = pd.concat([pd.read_csv(path) for path in snakemake.input.probes], ignore_index=True)
    write_table(probes, snakemake.output.probes_csv, snakemake.output.probes_markdown)


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
