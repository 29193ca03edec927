"""Rule table_data: a CSV/parquet table of image paths and captions into pairs.parquet."""

import logging

from crossmodal import runtime
from crossmodal.data import TableSource, write_pairs


def main(snakemake):
    block, name = snakemake.params.dataset, snakemake.wildcards.dataset
    runtime.configure(snakemake.threads, snakemake.params.seed)
    logging.basicConfig(stream=runtime.log_stream(), level=logging.INFO)
    source = TableSource(block["path"], block.get("split", "train"),
                         block.get("image_column", "image"), block.get("caption_column", "caption"),
                         min(snakemake.threads, runtime.cpu_count()), runtime.log_stream())
    pairs = write_pairs(source, snakemake.output.pairs, f"dataset '{name}'", {"dataset": name})
    print(f"wrote {len(pairs)} pairs", file=runtime.log_stream())


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
