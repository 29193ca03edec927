"""Rule extract_embeddings: embed every pair of a dataset (or of the splits ``extract.splits``
names for the encoder) with one encoder, streaming.

The pairs file is read a few batches at a time; images (inline bytes, files or tar members)
are decoded on a background thread and the embeddings written in row groups, so memory stays
bounded whatever the dataset's size. Throughput goes to the rule's log.
"""

import logging

from crossmodal import runtime
from crossmodal.data import PairsFile
from crossmodal.encoders import load_encoder
from crossmodal.extract import ExtractionStats, embed_batches, loader_threads
from crossmodal.store import EmbeddingsWriter


def main(snakemake):
    runtime.configure(snakemake.threads, snakemake.params.seed)
    logging.basicConfig(stream=runtime.log_stream(), level=logging.WARNING)
    logging.getLogger("crossmodal").setLevel(logging.INFO)  # dropped pairs, not hub chatter
    checkpoint = snakemake.input.get("checkpoint")
    encoder = load_encoder(snakemake.params.encoder, checkpoint).to(runtime.device())
    splits = snakemake.params.splits  # None: every pair; else only these splits' pairs
    pairs = PairsFile(snakemake.input.pairs, splits=splits)
    metadata = {**encoder.describe(), "encoder": snakemake.wildcards.encoder,
                "dataset": snakemake.wildcards.dataset,
                "splits": "all" if splits is None else ",".join(splits)}
    stats = ExtractionStats()
    batch_size = snakemake.config["extract"]["batch_size"]  # a performance knob, no param
    with EmbeddingsWriter(snakemake.output.embeddings, metadata) as writer:
        for batch in embed_batches(encoder, pairs.batches(batch_size),
                                   workers=loader_threads(min(snakemake.threads, runtime.cpu_count())),
                                   progress_file=runtime.log_stream(), total=pairs.num_rows,
                                   stats=stats):
            writer.write(batch.meta, batch.image, batch.text)
    print(stats.summary(), file=runtime.log_stream())


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
