"""Rule adversarial_study: paper A case study 2 (table 3); the victim is the encoder's own
zero-shot judge (``victim: {kind: encoder}``) or LLaVA with a refusal judge (``kind: llava``)."""

import dataclasses

from crossmodal import runtime
from crossmodal.case_studies.adversarial import (
    AdversarialSettings,
    adversarial_study,
    adversarial_table,
    build_victim,
    encoder_image_size,
)
from crossmodal.case_studies.attack_cases import FRIENDLY_TEXT, toyworld_cases, typographic_cases
from crossmodal.data.source import image_columns, open_images
from crossmodal.encoders import load_encoder
from crossmodal.report.tables import write_table
from crossmodal.store import read_frame


def attack_cases(settings, pairs_path, size, toyworld):
    """Toyworld: its word-free test scenes with the words typed in; otherwise the paper's
    typographic contrast images on the dataset's first test images."""
    if toyworld:
        pairs = read_frame(pairs_path)
        scenes = pairs[(pairs["split"] == "test") & (pairs["word"] == "none")]
        return toyworld_cases(scenes.iloc[:settings["benign_images"]],
                              settings["harmful_words"], settings["benign_words"],
                              settings["friendly_word"], size)
    pairs = read_frame(pairs_path, ["split", *image_columns(pairs_path)])
    benign = pairs[pairs["split"] == "test"].iloc[:settings["benign_images"]]
    return typographic_cases(settings["instructions"], open_images(benign),
                             settings["benign_texts"], size,
                             settings.get("friendly_text", FRIENDLY_TEXT), settings.get("typed"))


def main(snakemake):
    settings, seed = snakemake.params.settings, snakemake.params.seed
    runtime.configure(snakemake.threads, seed)
    encoder = load_encoder(snakemake.params.encoder, snakemake.input.get("checkpoint"))
    encoder.to(runtime.device())
    knobs = AdversarialSettings(runs=settings["runs"], seed=seed,
                                attack_steps=settings["attack_steps"],
                                defence_steps=settings["defence_steps"],
                                epsilon=settings["epsilon"], defence_epsilon=settings["epsilon"])
    victim = build_victim(snakemake.params.victim, encoder, knobs, runtime.device())
    groups = read_frame(snakemake.input.features, ["mds_group"])["mds_group"].to_numpy()
    cases = attack_cases(settings, snakemake.input.pairs, encoder_image_size(encoder),
                         snakemake.params.toyworld)
    print(dataclasses.asdict(knobs), f"{len(cases)} attack cases", file=runtime.log_stream())
    print(victim.describe(), file=runtime.log_stream())
    frame = adversarial_study(encoder, groups, cases, knobs, victim=victim,
                              progress_file=runtime.log_stream())
    write_table(frame, snakemake.output.runs)
    table = adversarial_table(frame, snakemake.params.uncertainty["level"]).reset_index()
    table["victim"] = (snakemake.params.victim or {}).get("kind", "encoder")
    write_table(table, snakemake.output.table, snakemake.output.markdown)


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
