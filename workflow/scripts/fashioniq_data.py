"""Rule fashioniq_data: read a FashionIQ download into the pairs and edits parquet files."""

import logging

from crossmodal import runtime
from crossmodal.data import read_fashioniq
from crossmodal.store import write_frame


def main(snakemake):
    block = snakemake.params.dataset
    runtime.configure(snakemake.threads, snakemake.params.seed)
    logging.basicConfig(stream=runtime.log_stream(), level=logging.INFO)
    categories = block.get("categories", ("dress", "shirt", "toptee"))
    pairs, edits = read_fashioniq(block["root"], block["split"], categories)
    metadata = {"dataset": snakemake.wildcards.dataset, "kind": "fashioniq",
                "root": str(block["root"]), "split": block["split"]}
    write_frame(edits, snakemake.output.edits, metadata)
    write_frame(pairs, snakemake.output.pairs, metadata)
    print(f"wrote {len(pairs)} gallery images and {edits['edit_id'].nunique()} edits "
          f"({len(edits)} captions)", file=runtime.log_stream())


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
