"""Rules paper_b_table1 / paper_b_architecture_table: lay metric rows out as paper B's tables,
each of our columns followed by its half-width column "<column> ±"."""

import pandas as pd

from crossmodal import runtime
from crossmodal.report.tables import write_table
from crossmodal.tables.paper_b import (
    architecture_table,
    interval_notes,
    table1,
)


def main(snakemake):
    rows = [pd.read_csv(path).iloc[0].to_dict() for path in snakemake.input.rows]
    if hasattr(snakemake.wildcards, "table"):
        columns = dict(zip(snakemake.params.labels, rows, strict=True))
        table = architecture_table(columns, snakemake.wildcards.table)
    else:
        by_encoder, columns = {}, {}
        # rows come encoder by encoder: its SAE, then its SAE-A
        kinds = ["SAE", "SAE-A"] * (len(rows) // 2)
        for encoder, kind, row in zip(snakemake.params.encoders, kinds, rows, strict=True):
            by_encoder.setdefault(encoder, {})[kind] = row
            columns[f"{encoder} {kind}"] = row
        table = table1(by_encoder)
    level = snakemake.params.uncertainty["level"]
    write_table(table, snakemake.output.csv, snakemake.output.markdown,
                notes=[f"± : half-width of the {level:.0%} interval.",
                       *interval_notes(columns, level)])


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
