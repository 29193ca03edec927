"""Rule text_to_image_control: paper A case study 3 — interpolate a prompt embedding toward a
reference image embedding on one MDS group, decode, and measure what moved. Toyworld: the toy
decoder, judged attribute by attribute; with ``unclip`` (real models): diffusers' Stable unCLIP,
measured by the generated images' own embeddings (cosine to the reference and to the prompt)."""

import numpy as np
import pandas as pd

from crossmodal import runtime
from crossmodal.case_studies.decoder import load_decoder, sample
from crossmodal.case_studies.shape_classifier import accuracy, load_classifier, predict
from crossmodal.case_studies.text_to_image import (
    ATTRIBUTES,
    classify_grid,
    control_grid,
    control_measures,
    decoder_generator,
    grid_records,
    load_unclip_pipeline,
    plot_control_grid,
    unclip_control_study,
)
from crossmodal.data.source import open_image
from crossmodal.encoders import load_encoder
from crossmodal.extract import embed_texts
from crossmodal.images import decode_to_array
from crossmodal.report.tables import write_table
from crossmodal.store import read_embeddings, read_frame


def labelled_images(pairs, embeddings, split, n, seed):
    """uint8 images, attribute labels and the chosen pairs' embeddings of n pairs of a split."""
    chosen = embeddings.split(split).subsample(n, seed)
    rows = pairs.loc[chosen.pairs["pair_id"]]
    labels = {a: rows[a].astype(str).to_numpy() for a in ATTRIBUTES}
    return decode_to_array(list(rows["image"])), labels, chosen


def decoder_agreement(decoder, classifier, vectors, labels, settings, seed, modality):
    """Share of samples decoded from ``vectors`` whose judged attributes equal the labels."""
    samples = sample(decoder, vectors, seed=seed, steps=settings["steps"],
                     guidance=settings["guidance"])
    return {f"decoder_{a}_agreement_{modality}": v
            for a, v in accuracy(predict(classifier, samples), labels).items()}


def reference_of(embeddings, pairs, wanted: dict):
    """The first test pair whose scene has the ``wanted`` attribute values."""
    test = embeddings.split("test")
    rows = pairs.loc[test.pairs["pair_id"]]
    match = np.ones(len(rows), dtype=bool)
    for attribute, value in wanted.items():
        match &= rows[attribute].astype(str).to_numpy() == str(value)
    if not match.any():
        raise ValueError(f"no test pair has {wanted}; choose other reference attributes")
    index = int(np.flatnonzero(match)[0])
    return test.image[index], rows.iloc[index]


def toyworld_control(snakemake, settings, seed):
    """The toy decoder path: judge quality, decoder agreement, grids judged per attribute."""
    pairs = read_frame(snakemake.input.pairs).set_index("pair_id")
    embeddings = read_embeddings(snakemake.input.embeddings, [])
    classifier, _ = load_classifier(snakemake.input.judge)
    test_images, test_labels, checked = labelled_images(
        pairs, embeddings, "test", settings["check_pairs"], seed)
    quality = {f"classifier_{a}": v for a, v in
               accuracy(predict(classifier, test_images), test_labels).items()}
    decoder, _ = load_decoder(snakemake.input.decoder)
    for modality in ("image", "text"):
        quality.update(decoder_agreement(decoder, classifier, getattr(checked, modality),
                                         test_labels, settings, seed, modality))
    print(quality, file=runtime.log_stream())
    encoder = load_encoder(snakemake.params.encoder, snakemake.input.get("checkpoint"))
    prompt = embed_texts(encoder, [settings["prompt"]])[0]
    groups = read_frame(snakemake.input.features, ["mds_group"])["mds_group"].to_numpy()
    generate = decoder_generator(decoder, settings["steps"], settings["guidance"])
    records, grids = [], []
    for index, wanted in enumerate(settings["references"]):
        reference, row = reference_of(embeddings, pairs, wanted)
        grid = control_grid(generate, prompt, reference, groups, seeds=settings["seeds"])
        grids.append((grid, decode_to_array([row["image"]])[0]))
        records.append(grid_records(classify_grid(classifier, grid),
                                    {a: str(row[a]) for a in ATTRIBUTES},
                                    prompt=settings.get("prompt_attributes"),
                                    reference_id=index))
    return control_measures(pd.concat(records, ignore_index=True)), quality, grids


def unclip_control(snakemake, settings, seed):
    """The Stable unCLIP path (paper A A.4.3): references are image files."""
    unclip = settings["unclip"]
    device = runtime.device()
    precision = unclip.get("precision", "fp32")
    pipeline = load_unclip_pipeline(unclip["pipeline"], device, precision)
    encoder = load_encoder(snakemake.params.encoder, snakemake.input.get("checkpoint"))
    groups = read_frame(snakemake.input.features, ["mds_group"])["mds_group"].to_numpy()
    references = [open_image(spec["image"]) for spec in settings["references"]]
    measures, grids = unclip_control_study(
        pipeline, encoder, settings["prompt"], references, groups, seeds=settings["seeds"],
        steps=settings["steps"], guidance=settings["guidance"],
        noise_level=unclip.get("noise_level", 0))
    quality = {"pipeline": unclip["pipeline"], "device": device,
               "precision": precision if device == "cuda" else "fp32"}
    return measures, quality, [(grid, np.asarray(image)) for grid, image in
                               zip(grids, references, strict=True)]


def main(snakemake):
    settings, seed = snakemake.params.settings, snakemake.params.seed
    runtime.configure(snakemake.threads, seed)
    control = unclip_control if "unclip" in settings else toyworld_control
    measures, quality, grids = control(snakemake, settings, seed)
    write_table(measures, snakemake.output.measures, snakemake.output.markdown)
    write_table(pd.DataFrame([quality]), snakemake.output.quality)
    for (grid, reference_image), path in zip(grids, snakemake.output.figures, strict=True):
        plot_control_grid(grid[:, :, 0], path, reference_image=reference_image,
                          title=f"prompt “{settings['prompt']}” → reference")


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
