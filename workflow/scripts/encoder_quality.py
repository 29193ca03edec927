"""Rule encoder_quality: one encoder's row of the encoder table, its per-family linear probes with
their gates and per-concept linear-detector AUCs (toyworld) and its similarity histograms."""

import pandas as pd

from crossmodal import runtime
from crossmodal.atomic import atomic_path
from crossmodal.encoder_probes import (
    empty_concept_probe_table,
    empty_probe_table,
    encoder_probe_tables,
    gates_passed,
    scalar_gates,
)
from crossmodal.encoder_quality import encoder_row
from crossmodal.encoders import load_encoder
from crossmodal.report import cosine_similarity_samples, plot_similarity_histograms
from crossmodal.store import read_embeddings


def probes_and_gates(name, everything, evaluation, settings, dataset, seed):
    """(probe table, concept table, encoder-table gate columns) of encoder ``name``; probes need
    toyworld's family labels and an ``encoder_gates`` config block."""
    if not (dataset["kind"] == "toyworld" and settings):
        return empty_probe_table(), empty_concept_probe_table(), {}
    shown_rates = {**dataset.get("mention_rates", {}), **dataset.get("depiction_rates", {})}
    probes, concepts = encoder_probe_tables(name, everything.split("train"),
                                            everything.split(evaluation["split"]), settings,
                                            seed, shown_rates=shown_rates)
    return probes, concepts, {"probe_gates_passed": gates_passed(probes["passed"])}


def main(snakemake):
    evaluation = snakemake.params.evaluation
    seed = snakemake.params.seed
    runtime.configure(snakemake.threads, seed)
    name = snakemake.wildcards.encoder
    settings = snakemake.params.gates
    dataset = snakemake.params.dataset
    toyworld = dataset["kind"] == "toyworld"
    everything = read_embeddings(snakemake.input.embeddings)
    embeddings = everything.split(evaluation["split"])
    encoder = load_encoder(snakemake.params.encoder, snakemake.input.get("checkpoint"))
    uncertainty = snakemake.params.uncertainty
    row = encoder_row(name, encoder, embeddings, toyworld, evaluation["recall_batch_size"], seed,
                      uncertainty["resamples"], uncertainty["level"])
    probes, concepts, gates = probes_and_gates(name, everything, evaluation, settings, dataset, seed)
    row.update({**gates, **scalar_gates(row, settings)})
    with atomic_path(snakemake.output.table) as tmp:
        pd.DataFrame([row]).to_csv(tmp, index=False)
    with atomic_path(snakemake.output.probes) as tmp:
        probes.to_csv(tmp, index=False)
    with atomic_path(snakemake.output.concept_probes) as tmp:
        concepts.to_csv(tmp, index=False)
    samples = cosine_similarity_samples(embeddings.image, embeddings.text,
                                        evaluation["histogram_pairs"], seed)
    plot_similarity_histograms(samples, snakemake.output.figure,
                               f"{name}: recall@1 = {row['recall@1']:.2f}, "
                               f"gap = {row['gap_dim']:.2f}")


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
