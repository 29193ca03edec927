"""Rule train_image_decoder: the embedding-conditioned diffusion decoder of case study 3 (the
unCLIP analogue), trained on toyworld images and one encoder's image embeddings."""

import numpy as np

from crossmodal import runtime
from crossmodal.case_studies.decoder import save_decoder, settings_from_dict, train_decoder
from crossmodal.images import decode_to_array
from crossmodal.report.tables import write_table
from crossmodal.store import read_embeddings, read_frame


def main(snakemake):
    settings, seed = snakemake.params.settings, snakemake.params.seed
    runtime.configure(snakemake.threads, seed)
    train = read_embeddings(snakemake.input.embeddings, []).split("train")
    train = train.subsample(settings["train_pairs"], seed)
    images = read_frame(snakemake.input.pairs, ["pair_id", "image"]).set_index("pair_id")
    pixels = decode_to_array(list(images.loc[train.pairs["pair_id"], "image"]))
    # Both views of a pair condition the decoder on its image, so a caption's (prompt's)
    # embedding decodes in distribution too, across the modality gap (case study 3 decodes T).
    views = np.stack([train.image, train.text]).astype(np.float32)
    model, log = train_decoder(pixels, views,
                               settings_from_dict(settings["decoder"]), seed,
                               progress=runtime.log_stream())
    steps = log.groupby("stage")["step"].max().to_dict()
    print(f"trained {steps} steps in {log['seconds'].max():.0f} s", file=runtime.log_stream())
    save_decoder(snakemake.output.model, model, {"encoder": snakemake.wildcards.encoder})
    write_table(log, snakemake.output.log)


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
