"""Rule gap_figures: paper B figure 25 (k-th-NN distances per gap-removal method) and figure 10
(PCA of the image and text embeddings with their means) for one encoder."""

import pandas as pd

from crossmodal import runtime
from crossmodal.report.intervention_figures import plot_embedding_pca, plot_gap_knn_histograms
from crossmodal.store import read_embeddings, read_frame

PCA_PAIRS = 2000


def main(snakemake):
    runtime.configure(snakemake.threads, snakemake.params.seed)
    encoder, split = snakemake.wildcards.encoder, snakemake.params.split
    measures = pd.read_csv(snakemake.input.measures)
    distances = read_frame(snakemake.input.distances)
    plot_gap_knn_histograms(distances, measures, snakemake.output.knn,
                            f"{encoder}, {split} split: distance to the 10th nearest image")
    embeddings = read_embeddings(snakemake.input.embeddings, []).split(split)
    sample = embeddings.subsample(PCA_PAIRS, snakemake.params.seed)
    plot_embedding_pca(sample.image, sample.text, snakemake.output.pca,
                       f"{encoder}, {split} split ({len(sample.pairs)} pairs)")


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
