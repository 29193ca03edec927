"""Rule dictionary_table: one row per trained dictionary + the active-latent curves."""

import pandas as pd

from crossmodal import runtime
from crossmodal.dictionaries.checkpoint import load_dictionary
from crossmodal.dictionaries.summary import summary_row
from crossmodal.report.tables import write_table
from crossmodal.report.training_figures import plot_active_latents
from crossmodal.store import read_frame


def main(snakemake):
    rows, logs = [], {}
    for model_path, log_path, bench in zip(snakemake.input.models, snakemake.input.logs,
                                           snakemake.input.benchmarks):
        _, facts = load_dictionary(model_path)
        log = read_frame(log_path)
        seconds = float(pd.read_csv(bench, sep="\t")["s"].iloc[0])
        rows.append(summary_row(facts, log, seconds))
        logs[f"{facts['encoder']}/{facts['method']}"] = log
    write_table(pd.DataFrame(rows), snakemake.output.csv, snakemake.output.markdown)
    plot_active_latents(logs, snakemake.output.figure, "active latents over training")


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
