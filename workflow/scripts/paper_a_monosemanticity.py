"""Rule paper_a_monosemanticity: paper A tables 4–5 and figures 2, 3 and 13."""

import pandas as pd

from crossmodal import runtime
from crossmodal.report.monosemanticity_figures import (
    plot_modality_mono,
    plot_mono_by_model,
    plot_mono_over_training,
)
from crossmodal.report.tables import write_table
from crossmodal.tables.paper_a import table4, table5


def main(snakemake):
    m, uncertainty, seed = snakemake.params.m, snakemake.params.uncertainty, snakemake.params.seed
    scores = {label: pd.read_parquet(path)
              for label, path in zip(snakemake.params.labels, snakemake.input.scores, strict=True)}
    fourth, fifth = table4(scores, m, uncertainty, seed), table5(scores, uncertainty, seed)
    for table, csv, markdown in ((fourth, snakemake.output.table4, snakemake.output.table4_md),
                                 (fifth, snakemake.output.table5, snakemake.output.table5_md)):
        write_table(table, csv, markdown)
    plot_mono_by_model(fourth, snakemake.output.models)
    plot_modality_mono(fifth, snakemake.output.modality)
    curves = pd.concat([pd.read_csv(path) for path in snakemake.input.curves], ignore_index=True)
    plot_mono_over_training(curves, snakemake.output.training)


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
