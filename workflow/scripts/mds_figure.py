"""Rule mds_figure: paper A figure 1 from the configured feature tables."""

from crossmodal import runtime
from crossmodal.report.modality_figures import plot_mds_distributions
from crossmodal.store import read_frame


def main(snakemake):
    panels = {label: read_frame(path)
              for label, path in zip(snakemake.params.labels, snakemake.input.features,
                                     strict=True)}
    plot_mds_distributions(panels, snakemake.output.figure)


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
