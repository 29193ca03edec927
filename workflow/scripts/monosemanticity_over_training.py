"""Rule monosemanticity_over_training: average EmbSim / WinRate of every checkpoint of one
dictionary and of the final model (paper A figure 13)."""

from pathlib import Path

import pandas as pd

from crossmodal import runtime
from crossmodal.dictionaries.checkpoint import load_dictionary, load_with_embeddings
from crossmodal.monosemanticity.evaluate import MonoSettings, average_scores, score_latents
from crossmodal.monosemanticity.inputs import h_embeddings
from crossmodal.report.tables import write_table


def checkpoints_with_steps(directory, final_model, train_log) -> list[tuple[int, Path]]:
    """(step, path) of every ``step_*.pt`` checkpoint, then the final model at its last step."""
    found = sorted((int(path.stem.split("_")[1]), path)
                   for path in Path(directory).glob("step_*.pt"))
    last = int(pd.read_parquet(train_log, columns=["step"])["step"].max()) + 1
    return found + [(last, Path(final_model))]


def main(snakemake):
    settings, seed = snakemake.params.settings, snakemake.params.seed
    runtime.configure(snakemake.threads, seed)
    _, _, embeddings = load_with_embeddings(snakemake.input.model, snakemake.input.embeddings,
                                            settings["split"])
    h_image, h_text = h_embeddings(snakemake.input.h_image, snakemake.input.h_text, embeddings)
    mono = MonoSettings(settings["m"], settings["epsilon"], settings["denominator"], seed)
    label = f"{snakemake.wildcards.encoder}/{snakemake.wildcards.method}"
    train_log = Path(snakemake.input.model).with_name("train_log.parquet")
    rows = []
    for step, path in checkpoints_with_steps(snakemake.input.checkpoints, snakemake.input.model,
                                             train_log):
        model, _ = load_dictionary(path)
        scores = score_latents(model.to(runtime.device()), embeddings.image, embeddings.text,
                               h_image, h_text, mono)
        rows.append({"model": label, "step": step, **average_scores(scores, settings["m"])})
        print(f"step {step}: {rows[-1]}", file=runtime.log_stream())
    write_table(pd.DataFrame(rows), snakemake.output.curve)


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
