"""Rule groundtruth_recovery: stack the per-concept tables, add each concept's linear-detector
AUC from the encoder's probes, summarise per dictionary and concept modality (mean best-latent
AUC on image rows, on caption rows, their mean, the linear-detector mean, right-group shares)."""

import pandas as pd

from crossmodal import runtime
from crossmodal.modality.groundtruth import recovery_summary, with_linear_detector
from crossmodal.report.tables import write_table
from crossmodal.store import read_frame


def main(snakemake):
    per_concept = pd.concat([read_frame(path) for path in snakemake.input.concepts],
                            ignore_index=True)
    if snakemake.input.probes:
        probes = pd.concat([pd.read_csv(path) for path in snakemake.input.probes],
                           ignore_index=True)
        per_concept = with_linear_detector(per_concept, probes)
    summary = pd.concat(
        [recovery_summary(group).assign(encoder=encoder, method=method)
         for (encoder, method), group in per_concept.groupby(["encoder", "method"], sort=False)],
        ignore_index=True)
    summary = summary[["encoder", "method", "modality", "concepts", "auc_image", "auc_text",
                       "mean_auc", "linear_auc", "right_group", "right_mds_group"]]
    write_table(summary, snakemake.output.csv, snakemake.output.markdown)
    write_table(per_concept, snakemake.output.per_concept)


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
