"""Rule bridge_figure: paper B figure 12 for one dictionary."""

import pandas as pd

from crossmodal import runtime
from crossmodal.report.modality_figures import plot_bridge_mass


def main(snakemake):
    bridge_mass = pd.read_csv(snakemake.input.bridge)
    title = f"{snakemake.wildcards.encoder} / {snakemake.wildcards.method}"
    with runtime.step(f"bridge mass figure for {title}"):
        plot_bridge_mass(bridge_mass, snakemake.params.tau, snakemake.output.figure, title)


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
