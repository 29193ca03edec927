"""Rule gap_removal: every gap-removal method of paper B appendices I and L on one split of one
dataset, through the analysis dataset's dictionary (its bimodal mask; the baselines fitted on the
analysis dataset's train split)."""

import numpy as np
import pandas as pd

from crossmodal import runtime
from crossmodal.dictionaries.checkpoint import load_dictionary
from crossmodal.interventions.evaluation import (
    GapSettings,
    LabelledSplit,
    classification_measures,
    gap_measures,
    probe_and_evaluated,
    reconstruct,
)
from crossmodal.interventions.gap_removal import GapInputs, GapReference
from crossmodal.report.tables import write_table
from crossmodal.store import read_embeddings, read_frame, read_vectors, write_frame


def labelled_split(model, mask, inputs, evaluated, probe, prompts_path, family):
    """Table 11's classification inputs: labels, class vectors reconstructed as texts, and the
    probe's training images (``probe``: labelled pairs disjoint from ``evaluated``)."""
    classes, class_vectors = read_vectors(prompts_path, "embedding")
    present = evaluated.pairs[family].to_numpy() != "none"
    probe = probe.subset(probe.pairs[family].to_numpy() != "none")
    class_inputs = reconstruct(model, class_vectors, class_vectors, mask)
    probe_inputs = reconstruct(model, probe.image, probe.image, mask)
    evaluated_inputs = GapInputs(inputs.image[present], inputs.text[present],
                                 inputs.image_bimodal[present], inputs.text_bimodal[present])
    return evaluated_inputs, LabelledSplit(evaluated.pairs[family].to_numpy()[present],
                                           list(classes["class"]), class_inputs, probe_inputs,
                                           probe.pairs[family].to_numpy())


def main(snakemake):
    settings, seed = snakemake.params.settings, snakemake.params.seed
    uncertainty = snakemake.params.uncertainty
    runtime.configure(snakemake.threads, seed)
    split = snakemake.wildcards.split
    model, _ = load_dictionary(snakemake.input.model)
    model.to(runtime.device())
    mask = read_frame(snakemake.input.features, ["group"])["group"].to_numpy() == "bimodal"
    train = read_embeddings(snakemake.input.reference).split("train")
    with runtime.step(f"reconstructing the {len(train.image)} train pairs and fitting the "
                      "baselines"):
        fitted = reconstruct(model, train.image, train.text, mask)
        reference = GapReference.fit(fitted.image, fitted.text, seed, settings["schrodi_share"])
    embeddings = read_embeddings(snakemake.input.embeddings)
    labelled = "prompts" in snakemake.input.keys()  # noqa: SIM118 (snakemake Namedlist)
    if labelled:
        probe, evaluated = probe_and_evaluated(
            embeddings, split, settings.get("probe_split", "train"), settings["probe_pairs"],
            settings["max_pairs"], seed)
    else:
        evaluated = embeddings.split(split).subsample(settings["max_pairs"], seed)
    inputs = reconstruct(model, evaluated.image, evaluated.text, mask)
    gap_settings = GapSettings(settings["ood_k"], settings["wasserstein_samples"],
                               settings["recall_batch_size"], seed, uncertainty["resamples"],
                               uncertainty["level"])
    with runtime.step(f"DiM, W, OOD, recall and RMG of every method on "
                      f"{snakemake.wildcards.dataset} {split} ({len(evaluated.pairs)} pairs)"):
        measures, distances = gap_measures(inputs, reference, gap_settings,
                                           progress=runtime.log_stream())
    if labelled:
        labelled_inputs, labels = labelled_split(
            model, mask, inputs, evaluated, probe, snakemake.input.prompts,
            settings["zero_shot_family"])
        measures = pd.concat([measures, classification_measures(
            labelled_inputs, reference, labels, seed=seed,
            resamples=uncertainty["resamples"], level=uncertainty["level"])])
    measures.insert(0, "split", split)
    measures.insert(0, "dataset", snakemake.wildcards.dataset)
    measures.insert(0, "encoder", snakemake.wildcards.encoder)
    measures["bimodal_latents"] = int(mask.sum())
    measures["pairs"] = len(evaluated.pairs)
    write_table(measures, snakemake.output.measures)
    write_frame(distances.astype({"distance": np.float32}), snakemake.output.distances)


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
