"""Rule coco_data: COCO captions 2017 into pairs.parquet, one pair per caption (image = path)."""

import logging

from crossmodal import runtime
from crossmodal.data import CocoSource, write_pairs


def main(snakemake):
    block, name = snakemake.params.dataset, snakemake.wildcards.dataset
    runtime.configure(snakemake.threads, snakemake.params.seed)
    logging.basicConfig(stream=runtime.log_stream(), level=logging.INFO)
    source = CocoSource(block["root"], block["split"], block.get("split_name"),
                        min(snakemake.threads, runtime.cpu_count()), runtime.log_stream())
    pairs = write_pairs(source, snakemake.output.pairs, f"dataset '{name}'", {"dataset": name})
    print(f"wrote {len(pairs)} captions of {pairs['image'].nunique()} images",
          file=runtime.log_stream())


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
