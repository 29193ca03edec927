"""Rule beta_sweep: SAE-A over a log grid of β; table + figures 7–8 of paper B."""

from crossmodal import runtime
from crossmodal.dictionaries.beta import beta_grid, select_beta
from crossmodal.dictionaries.settings import training_settings
from crossmodal.dictionaries.sweep import beta_sweep
from crossmodal.report.dictionary_figures import plot_beta_energy, plot_beta_reconstruction
from crossmodal.report.tables import write_table
from crossmodal.store import read_embeddings


def main(snakemake):
    seed, spec = snakemake.params.seed, snakemake.params.dictionary
    runtime.configure(snakemake.threads, seed)
    # the dictionary's own beta_sweep keys (a smaller budget at large K) override the global ones
    sweep = {**snakemake.params.sweep, **spec.get("beta_sweep", {})}
    defaults = snakemake.params.training
    embeddings = read_embeddings(snakemake.input.embeddings).split(defaults["split"])
    if "pairs" in sweep:
        embeddings = embeddings.subsample(sweep["pairs"], seed)
    settings = training_settings(defaults, {**spec, "epochs": sweep["epochs"]}, 0.0, seed,
                                 runtime.device())
    grid = beta_grid(sweep["low"], sweep["high"], sweep["per_decade"])
    table = beta_sweep(spec, embeddings.image, embeddings.text, settings, grid,
                       progress_file=runtime.log_stream())
    chosen = select_beta(table, sweep["tolerance"])
    table["selected"] = table["beta"] == chosen
    write_table(table, snakemake.output.table)
    title = f"{snakemake.wildcards.encoder} / {snakemake.wildcards.method}"
    plot_beta_reconstruction(table, chosen, snakemake.output.r2_figure, title)
    plot_beta_energy(table, chosen, snakemake.output.energy_figure, title)


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
