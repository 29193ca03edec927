"""Rule paper_b_intervention_tables: paper B tables 2, 7, 8 and 9–12 from the per-encoder rows
(CSV with the ``C ±`` half-width columns; markdown with "value ± half-width" cells)."""

import pandas as pd

from crossmodal import runtime
from crossmodal.report.tables import write_table
from crossmodal.tables.paper_b_interventions import (
    gap_table,
    table2,
    table7,
    table8,
    table12,
)


def main(snakemake):
    encoders, splits = snakemake.params.encoders, snakemake.params.splits
    frames = iter(pd.read_csv(path) for path in snakemake.input.gap)
    # inputs come split by split (table 9, 10, 11 order), encoder by encoder
    gap = {table: {encoder: next(frames) for encoder in encoders} for table in splits}
    arithmetic = dict(zip(encoders, (pd.read_csv(p) for p in snakemake.input.arithmetic),
                          strict=True))
    tables = {name: gap_table(name, gap[name]) for name in ("table9", "table10", "table11")}
    tables.update(table12=table12(gap["table9"]), table2=table2(arithmetic),
                  table7=table7(arithmetic), table8=table8(arithmetic))
    for name, table in tables.items():
        write_table(table, snakemake.output[f"{name}_csv"], snakemake.output[f"{name}_md"])


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
