"""Rule vector_arithmetic: paper B appendix H on the dataset's edit triplets, one encoder."""

import numpy as np
import pandas as pd

from crossmodal import runtime
from crossmodal.data.source import image_columns, open_images
from crossmodal.dictionaries.checkpoint import load_dictionary
from crossmodal.errors import CrossmodalError
from crossmodal.geometry.intervention import reconstructions
from crossmodal.interventions.arithmetic import (
    QUERY_LABELS,
    arithmetic_measures,
    arithmetic_queries,
    example_edit,
    top_match,
)
from crossmodal.report.intervention_figures import plot_arithmetic_example, plot_query_histograms
from crossmodal.report.tables import write_table
from crossmodal.store import read_embeddings, read_frame, read_vectors, write_frame


def rows_of(pair_ids, embeddings) -> np.ndarray:
    """Image embeddings (N, d) of the given pair ids."""
    index = pd.Index(embeddings.pairs["pair_id"])
    positions = index.get_indexer(pair_ids)
    if (positions < 0).any():
        missing = np.asarray(pair_ids)[positions < 0][:3]
        raise CrossmodalError(f"edit triplets name pairs without embeddings (first: "
                              f"{list(missing)}); re-run the extract rule on this dataset")
    return embeddings.image[positions]


def example_figure(edits, queries, targets, pairs_path, path) -> None:
    """Figure 5: source, target, and the top gallery image of Q and of Q_SAE (full gallery)."""
    row = example_edit(edits)
    edit = edits.iloc[row]
    panels_ids = [("source", edit["source_pair_id"]), ("target", edit["target_pair_id"])]
    for kind in ("sum", "sae"):
        best, ranks = top_match(queries[kind][row], targets)
        title = f"top-1 of {QUERY_LABELS[kind].split(' =')[0]}\n(target rank {ranks[row] + 1})"
        panels_ids.append((title, edits.iloc[best]["target_pair_id"]))
    ids = [pair_id for _, pair_id in panels_ids]
    pairs = read_frame(pairs_path, ["pair_id", *image_columns(pairs_path)])
    images = open_images(pairs.set_index("pair_id").loc[ids])
    panels = [(title, image) for (title, _), image in zip(panels_ids, images)]
    plot_arithmetic_example(panels, edit["relative_caption"], path)


def main(snakemake):
    settings, seed = snakemake.params.settings, snakemake.params.seed
    runtime.configure(snakemake.threads, seed)
    model, _ = load_dictionary(snakemake.input.model)
    model.to(runtime.device()).eval()
    mask = read_frame(snakemake.input.features, ["group"])["group"].to_numpy() == "bimodal"
    edits, deltas = read_vectors(snakemake.input.edits, "delta")
    embeddings = read_embeddings(snakemake.input.embeddings, [])
    source, source_bimodal = reconstructions(
        model, rows_of(edits["source_pair_id"], embeddings), mask)
    delta, delta_bimodal = reconstructions(model, deltas, mask)
    targets, _ = reconstructions(model, rows_of(edits["target_pair_id"], embeddings), mask)
    queries = {kind: query.numpy() for kind, query in arithmetic_queries(
        source, source_bimodal, delta, delta_bimodal).items()}
    uncertainty = snakemake.params.uncertainty
    measures, distances = arithmetic_measures(queries, targets.numpy(), settings["ood_k"],
                                              settings["recall_batch_size"], seed,
                                              uncertainty["resamples"], uncertainty["level"])
    measures.insert(0, "encoder", snakemake.wildcards.encoder)
    measures["edits"] = len(edits)
    write_table(measures, snakemake.output.measures)
    write_frame(distances.astype({"distance": np.float32}), snakemake.output.distances)
    plot_query_histograms(distances, measures, snakemake.output.histograms,
                          f"{snakemake.wildcards.encoder}: distance to the 10th nearest target")
    example_figure(edits, queries, targets.numpy(), snakemake.input.pairs,
                   snakemake.output.example)


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
