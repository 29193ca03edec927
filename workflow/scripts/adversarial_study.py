"""Rule adversarial_study: paper A case study 2 (table 3) with the encoder as its own victim."""

import dataclasses

from crossmodal import runtime
from crossmodal.case_studies.adversarial import (
    FRIENDLY_TEXT,
    AdversarialSettings,
    adversarial_study,
    adversarial_table,
)
from crossmodal.encoders import load_encoder
from crossmodal.images import decode_image
from crossmodal.report.tables import write_table
from crossmodal.store import read_frame


def main(snakemake):
    settings, seed = snakemake.params.settings, snakemake.params.seed
    runtime.configure(snakemake.threads, seed)
    encoder = load_encoder(snakemake.params.encoder, snakemake.input.get("checkpoint"))
    encoder.to(runtime.device())
    groups = read_frame(snakemake.input.features, ["mds_group"])["mds_group"].to_numpy()
    pairs = read_frame(snakemake.input.pairs, ["split", "word", "image"])
    plain = pairs[(pairs["split"] == "test") & (pairs["word"] == "none")]
    benign_images = [decode_image(data) for data in plain["image"].iloc[:settings["benign_images"]]]
    knobs = AdversarialSettings(n_instructions=len(settings["instructions"]),
                                runs=settings["runs"], seed=seed,
                                attack_steps=settings["attack_steps"],
                                defence_steps=settings["defence_steps"],
                                epsilon=settings["epsilon"], defence_epsilon=settings["epsilon"],
                                friendly_text=settings.get("friendly_text", FRIENDLY_TEXT))
    print(dataclasses.asdict(knobs), file=runtime.log_stream())
    frame = adversarial_study(encoder, groups, settings["instructions"],
                              settings["benign_texts"], benign_images, knobs,
                              progress_file=runtime.log_stream(), typed=settings.get("typed"))
    write_table(frame, snakemake.output.runs)
    write_table(adversarial_table(frame).reset_index(), snakemake.output.table,
                snakemake.output.markdown)


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
