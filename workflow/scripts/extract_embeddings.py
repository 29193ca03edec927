"""Rule extract_embeddings: embed every pair of a dataset with one encoder."""

import time

from crossmodal import runtime
from crossmodal.encoders import load_encoder
from crossmodal.extract import embed_pairs
from crossmodal.store import read_frame, write_embeddings


def main(snakemake):
    runtime.configure(snakemake.threads, snakemake.params.seed)
    checkpoint = snakemake.input.get("checkpoint")
    encoder = load_encoder(snakemake.params.encoder, checkpoint).to(runtime.device())
    pairs = read_frame(snakemake.input.pairs)
    start = time.perf_counter()
    image, text = embed_pairs(encoder, list(pairs["image"]), list(pairs["caption"]),
                              list(pairs["pair_id"]), snakemake.params.batch_size,
                              progress_file=runtime.log_stream())
    seconds = time.perf_counter() - start
    print(f"embedded {len(pairs)} pairs in {seconds:.1f} s ({len(pairs) / seconds:.0f} pairs/s)",
          file=runtime.log_stream())
    metadata = {**encoder.describe(), "encoder": snakemake.wildcards.encoder,
                "dataset": snakemake.wildcards.dataset}
    write_embeddings(snakemake.output.embeddings, pairs.drop(columns=["image"]), image, text,
                     metadata)


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
