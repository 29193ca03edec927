"""Rule imagefolder_data: ImageNet-style class folders into pairs.parquet (image = path,
caption = the class prompt, label = the class name)."""

import logging

from crossmodal import runtime
from crossmodal.data import ImageFolderSource, write_pairs
from crossmodal.data.templates import DEFAULT_TEMPLATE


def main(snakemake):
    block, name = snakemake.params.dataset, snakemake.wildcards.dataset
    runtime.configure(snakemake.threads, snakemake.params.seed)
    logging.basicConfig(stream=runtime.log_stream(), level=logging.INFO)
    source = ImageFolderSource(block["root"], block.get("class_names"), block.get("split", "val"),
                               block.get("template", DEFAULT_TEMPLATE),
                               min(snakemake.threads, runtime.cpu_count()), runtime.log_stream())
    pairs = write_pairs(source, snakemake.output.pairs, f"dataset '{name}'", {"dataset": name})
    print(f"wrote {len(pairs)} images of {pairs['label'].nunique()} classes",
          file=runtime.log_stream())


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
