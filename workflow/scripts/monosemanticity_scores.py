"""Rule monosemanticity_scores: EmbSim, WinRate and Mono of every latent of one model."""

from crossmodal import runtime
from crossmodal.dictionaries.checkpoint import load_with_embeddings
from crossmodal.monosemanticity.evaluate import MonoSettings, score_latents
from crossmodal.monosemanticity.inputs import h_embeddings
from crossmodal.store import read_frame, write_frame


def main(snakemake):
    settings, seed = snakemake.params.settings, snakemake.params.seed
    runtime.configure(snakemake.threads, seed)
    model, _, embeddings = load_with_embeddings(snakemake.input.model,
                                                snakemake.input.embeddings, settings["split"])
    model.to(runtime.device())
    h_image, h_text = h_embeddings(snakemake.input.h_image, snakemake.input.h_text, embeddings)
    mono = MonoSettings(settings["m"], settings["epsilon"], settings["denominator"], seed)
    with runtime.step(f"EmbSim and WinRate of every latent (m = {settings['m']})"):
        scores = score_latents(model, embeddings.image, embeddings.text, h_image, h_text, mono)
    groups = read_frame(snakemake.input.features, ["mds_group", "group", "mds_group_flag"])
    write_frame(scores.join(groups), snakemake.output.scores,
                {"encoder": snakemake.wildcards.encoder, "method": snakemake.wildcards.method,
                 "m": str(settings["m"])})


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
