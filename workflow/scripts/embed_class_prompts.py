"""Rule embed_class_prompts: one zero-shot vector per class, the normalised mean of its prompt
embeddings (Radford et al. 2021): toyworld's prompt ensembles of a concept family
(``world.prompts``), or for ``label`` the classes of an imagefolder dataset (ImageNet) with the 80
CLIP templates (``data.templates``)."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from crossmodal import runtime
from crossmodal.data import class_names_of, zero_shot_prompts
from crossmodal.encoders import load_encoder
from crossmodal.extract import embed_texts
from crossmodal.store import read_frame, vectors_to_arrow, write_table
from crossmodal.world.prompts import class_prompts


def prompts_of(family, pairs_path):
    """{class: [prompt, …]} of a toyworld family, or of the classes in an imagefolder's pairs."""
    if pairs_path is None:
        return class_prompts(family), "toyworld"
    names = pq.read_schema(pairs_path).names
    frame = read_frame(pairs_path, [c for c in (family, "class_index") if c in names])
    return zero_shot_prompts(class_names_of(frame, family)), "clip_templates"


def main(snakemake):
    runtime.configure(snakemake.threads, snakemake.params.seed)
    encoder = load_encoder(snakemake.params.encoder, snakemake.input.get("checkpoint"))
    encoder.to(runtime.device())
    prompts, source = prompts_of(snakemake.params.family, snakemake.input.get("pairs"))
    batch_size = snakemake.config["extract"]["batch_size"]  # a performance knob, no param
    vectors = []
    for texts in prompts.values():
        mean = embed_texts(encoder, texts, batch_size).mean(0)
        vectors.append(mean / np.linalg.norm(mean))
    table = pa.table({"class": list(prompts),
                      "prompts": [len(texts) for texts in prompts.values()]})
    write_table(table.append_column("embedding", vectors_to_arrow(np.stack(vectors))),
                snakemake.output.embeddings,
                {**encoder.describe(), "family": snakemake.params.family, "prompts": source})


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
