"""Rule embed_class_prompts: one zero-shot vector per class, the normalised mean of its prompt
embeddings (Radford et al. 2021), from toyworld's prompt ensembles (``world.prompts``)."""

import numpy as np
import pyarrow as pa

from crossmodal import runtime
from crossmodal.encoders import load_encoder
from crossmodal.extract import embed_texts
from crossmodal.store import vectors_to_arrow, write_table
from crossmodal.world.prompts import class_prompts


def main(snakemake):
    runtime.configure(snakemake.threads, snakemake.params.seed)
    encoder = load_encoder(snakemake.params.encoder, snakemake.input.get("checkpoint"))
    encoder.to(runtime.device())
    prompts = class_prompts(snakemake.params.family)
    vectors = []
    for texts in prompts.values():
        mean = embed_texts(encoder, texts, snakemake.params.batch_size).mean(0)
        vectors.append(mean / np.linalg.norm(mean))
    table = pa.table({"class": list(prompts),
                      "prompts": [len(texts) for texts in prompts.values()]})
    write_table(table.append_column("embedding", vectors_to_arrow(np.stack(vectors))),
                snakemake.output.embeddings,
                {**encoder.describe(), "family": snakemake.params.family})


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
