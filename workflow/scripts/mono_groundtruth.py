"""Rule mono_groundtruth: paper A's Mono ranking of models against toyworld's ground truth
(per latent and per modality, from each model's feature table)."""

import pandas as pd

from crossmodal import runtime
from crossmodal.report.tables import write_table
from crossmodal.store import read_frame
from crossmodal.tables.paper_a import mono_vs_groundtruth


def main(snakemake):
    targets = snakemake.params.targets
    features = {target: read_frame(path)
                for target, path in zip(targets.values(), snakemake.input.features, strict=True)}
    scores = {label: read_frame(path)
              for label, path in zip(targets, snakemake.input.scores, strict=True)}
    table = mono_vs_groundtruth(pd.read_csv(snakemake.input.table4), targets, features,
                                pd.read_csv(snakemake.input.recovery), scores,
                                snakemake.params.uncertainty, snakemake.params.seed)
    agree = (table["rank_mono"] == table["rank_groundtruth"]).all()
    print(f"Mono ranking {'agrees' if agree else 'disagrees'} with the per-latent ground truth",
          file=runtime.log_stream())
    write_table(table, snakemake.output.table, snakemake.output.markdown)


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
