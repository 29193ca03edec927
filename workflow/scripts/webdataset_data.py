"""Rule webdataset_data: index img2dataset-style webdataset shards into pairs.parquet (image =
shard path + tar member; the images stay in the shards)."""

import logging

from crossmodal import runtime
from crossmodal.data import WebDatasetSource, write_pairs


def shard_specs(block) -> dict:
    """split name → shard spec: ``splits`` as given, or ``{split: shards}``."""
    return block.get("splits") or {block.get("split", "train"): block["shards"]}


def main(snakemake):
    block, name = snakemake.params.dataset, snakemake.wildcards.dataset
    runtime.configure(snakemake.threads, snakemake.params.seed)
    logging.basicConfig(stream=runtime.log_stream(), level=logging.INFO)
    source = WebDatasetSource(shard_specs(block), f"dataset '{name}'", block.get("max_pairs"),
                              block.get("json_fields", ()),
                              min(snakemake.threads, runtime.cpu_count()),
                              progress_file=runtime.log_stream())
    pairs = write_pairs(source, snakemake.output.pairs, f"dataset '{name}'", {"dataset": name})
    print(f"wrote {len(pairs)} pairs ({pairs['split'].value_counts().to_dict()}) from "
          f"{sum(len(s) for s in source.splits.values())} shards", file=runtime.log_stream())


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
