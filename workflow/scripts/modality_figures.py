"""Rule modality_figures: paper B figures 2 and 16–17 for one dictionary."""

from crossmodal import runtime
from crossmodal.dictionaries.checkpoint import load_dictionary
from crossmodal.report.modality_figures import plot_energy_geometry, plot_unimodal_biases
from crossmodal.store import read_frame


def main(snakemake):
    features = read_frame(snakemake.input.features)
    model, _ = load_dictionary(snakemake.input.model)
    atoms = model.dictionary.detach().cpu().numpy()
    title = f"{snakemake.wildcards.encoder} / {snakemake.wildcards.method}"
    with runtime.step(f"paper B figures 2 and 16–17 for {title}"):
        plot_energy_geometry(features, atoms, snakemake.params.tau, snakemake.output.energy,
                             title)
        plot_unimodal_biases(features, atoms, snakemake.output.unimodal, title)


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
