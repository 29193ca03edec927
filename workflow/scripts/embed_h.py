"""Rule embed_h: one split's captions or images embedded by paper A's h (appendix A.3); on
toyworld the images' h is the toyworld image expert (its checkpoint is then an input)."""

import pyarrow as pa

from crossmodal import runtime
from crossmodal.data.source import image_columns, open_images
from crossmodal.monosemanticity.embedders import load_image_embedder, load_text_embedder
from crossmodal.store import read_frame, vectors_to_arrow, write_table


def main(snakemake):
    runtime.configure(snakemake.threads, snakemake.params.seed)
    modality, spec = snakemake.wildcards.modality, snakemake.params.embedder
    columns = ["caption"] if modality == "text" else image_columns(snakemake.input.pairs)
    pairs = read_frame(snakemake.input.pairs, ["pair_id", "split", *columns])
    pairs = pairs[pairs["split"] == snakemake.params.split]
    if modality == "text":
        embedder = load_text_embedder(spec, runtime.device())
        vectors = embedder.embed(list(pairs["caption"]))
    else:
        embedder = load_image_embedder(spec, runtime.device(), snakemake.input.get("expert"))
        vectors = embedder.embed(open_images(pairs))
    table = pa.table({"pair_id": pairs["pair_id"].to_numpy()})
    write_table(table.append_column("embedding", vectors_to_arrow(vectors)),
                snakemake.output.embeddings, {"embedder": embedder.name, "modality": modality})


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
