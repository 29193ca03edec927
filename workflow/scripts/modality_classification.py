"""Rule modality_classification: paper A (ICLR version) table 1 for one model, the paper's
numbers beside ours (same row order)."""

from crossmodal import runtime
from crossmodal.dictionaries.checkpoint import load_with_embeddings
from crossmodal.dictionaries.evaluate import encode_in_batches
from crossmodal.monosemanticity.modality_check import (
    ICLR_TABLE1,
    modality_classification_check,
    modality_consistency,
)
from crossmodal.report.tables import write_table
from crossmodal.store import read_frame


def main(snakemake):
    settings, seed = snakemake.params.settings, snakemake.params.seed
    runtime.configure(snakemake.threads, seed)
    model, _, embeddings = load_with_embeddings(snakemake.input.model,
                                                snakemake.input.embeddings, settings["split"])
    labels = embeddings.pairs[settings["label"]]
    # unlabelled pairs: toyworld's "none", COCO images without instances (null)
    labelled = (labels.notna() & (labels.astype(str) != "none")).to_numpy()
    embeddings = embeddings.subset(labelled).subsample(settings["pairs"], seed)
    groups = read_frame(snakemake.input.features, ["mds_group"])["mds_group"].to_numpy()
    model.to(runtime.device())
    uncertainty = snakemake.params.uncertainty
    table = modality_classification_check(
        encode_in_batches(model, embeddings.image), encode_in_batches(model, embeddings.text),
        groups, embeddings.pairs[settings["label"]].to_numpy(), seeds=settings["seeds"],
        resamples=uncertainty["resamples"], level=uncertainty["level"], bootstrap_seed=seed)
    print("paper A's reading holds:", modality_consistency(table), file=runtime.log_stream())
    paper = ICLR_TABLE1[["n_latents", "accuracy", "delta_accuracy"]].add_suffix(" (paper)")
    table = table.join(paper)
    write_table(table, snakemake.output.table, snakemake.output.markdown)


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
