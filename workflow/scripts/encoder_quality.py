"""Rule encoder_quality: one encoder's row of the encoder table and its similarity histograms."""

import pandas as pd

from crossmodal import runtime
from crossmodal.atomic import atomic_path
from crossmodal.encoder_quality import encoder_row
from crossmodal.encoders import load_encoder
from crossmodal.report import cosine_similarity_samples, plot_similarity_histograms
from crossmodal.store import read_embeddings


def main(snakemake):
    evaluation = snakemake.params.evaluation
    seed = snakemake.params.seed
    runtime.configure(snakemake.threads, seed)
    name = snakemake.wildcards.encoder
    embeddings = read_embeddings(snakemake.input.embeddings).split(evaluation["split"])
    encoder = load_encoder(snakemake.params.encoder, snakemake.input.get("checkpoint"))
    row = encoder_row(name, encoder, embeddings, snakemake.params.dataset_kind == "toyworld",
                      evaluation["recall_batch_size"], seed)
    with atomic_path(snakemake.output.table) as tmp:
        pd.DataFrame([row]).to_csv(tmp, index=False)
    samples = cosine_similarity_samples(embeddings.image, embeddings.text,
                                        evaluation["histogram_pairs"], seed)
    plot_similarity_histograms(samples, snakemake.output.figure,
                               f"{name}: recall@1 = {row['recall@1']:.2f}, "
                               f"gap = {row['gap_dim']:.2f}")


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
