"""Rule embed_edit_captions: embed the relative captions of a dataset's edit triplets and average
them per edit (paper B appendix J: several FashionIQ captions per pair are embedded and meaned)."""

import pyarrow as pa

from crossmodal import runtime
from crossmodal.data import mean_caption_embeddings
from crossmodal.encoders import load_encoder
from crossmodal.extract import embed_texts
from crossmodal.store import read_frame, vectors_to_arrow, write_table


def main(snakemake):
    runtime.configure(snakemake.threads, snakemake.params.seed)
    encoder = load_encoder(snakemake.params.encoder, snakemake.input.get("checkpoint"))
    encoder.to(runtime.device())
    edits = read_frame(snakemake.input.edits)
    batch_size = snakemake.config["extract"]["batch_size"]  # a performance knob, no param
    captions = embed_texts(encoder, list(edits["relative_caption"]), batch_size)
    edit_ids, deltas = mean_caption_embeddings(edits["edit_id"].to_numpy(), captions)
    # one row per edit: its first caption (for display) and the mean caption embedding Δ
    first = edits.drop_duplicates("edit_id").set_index("edit_id").loc[edit_ids].reset_index()
    table = pa.Table.from_pandas(first, preserve_index=False)
    write_table(table.append_column("delta", vectors_to_arrow(deltas)),
                snakemake.output.embeddings,
                {**encoder.describe(), "dataset": snakemake.wildcards.dataset,
                 "captions": str(len(edits))})


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
