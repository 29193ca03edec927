"""Rule text_to_image_control: paper A case study 3 — interpolate a prompt embedding toward a
reference image embedding on one MDS group, decode, and measure what moved. Each group has a
size-matched random control (``random_<group>``) and one row interpolates all dimensions
(``all``); the controls are decoded with ``control_seeds`` (default: ``seeds``). Toyworld: the toy
decoder, judged attribute by attribute by the toyworld image expert; with ``unclip`` (real
models): diffusers' Stable unCLIP, measured by the generated images' own embeddings (cosine to the
reference and to the prompt)."""

import numpy as np
import pandas as pd

from crossmodal import runtime
from crossmodal.case_studies.decoder import load_decoder, sample
from crossmodal.case_studies.text_to_image import (
    ATTRIBUTES,
    DECODER_GATE,
    DEFAULT_WEIGHTS,
    GROUP_ORDER,
    classify_grid,
    control_measures,
    control_sets,
    decoder_gates,
    decoder_generator,
    grid_records,
    group_sets,
    load_unclip_pipeline,
    pipeline_embedding_norm,
    plot_control_grid,
    set_grid,
    unclip_control_study,
)
from crossmodal.data.source import open_image
from crossmodal.encoders import load_encoder
from crossmodal.errors import CrossmodalError
from crossmodal.extract import embed_texts
from crossmodal.image_expert import accuracy, load_expert, predict
from crossmodal.images import decode_to_array
from crossmodal.report.tables import write_table
from crossmodal.store import read_embeddings, read_frame


def dimension_sets(snakemake, seed):
    """The non-empty MDS groups and their controls (random_<group>, all): two {name: indices}."""
    groups = read_frame(snakemake.input.features, ["mds_group"])["mds_group"].to_numpy()
    return group_sets(groups, GROUP_ORDER), control_sets(groups, GROUP_ORDER, seed)


def set_sizes(*sets) -> dict[str, int]:
    """{row name: number of dimensions it interpolates} over the given dimension-set maps."""
    return {name: len(indices) for rows in sets for name, indices in rows.items()}


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
        raise CrossmodalError(f"no test pair has {wanted}; choose other reference attributes "
                              "in case_studies.text_to_image.references")
    index = int(np.flatnonzero(match)[0])
    return test.image[index], rows.iloc[index]


def judged_records(classifier, grid, sets, settings, row, index):
    """The per-image records of one decoded grid over ``sets`` (rows), judged on ATTRIBUTES."""
    return grid_records(classify_grid(classifier, grid, ATTRIBUTES),
                        {a: str(row[a]) for a in ATTRIBUTES}, list(sets), settings["weights"],
                        prompt=settings.get("prompt_attributes"), reference_id=index)


def toyworld_control(snakemake, settings, seed):
    """The toy decoder path: judge quality, decoder agreement, grids judged per attribute."""
    pairs = read_frame(snakemake.input.pairs).set_index("pair_id")
    embeddings = read_embeddings(snakemake.input.embeddings, [])
    classifier, _ = load_expert(snakemake.input.judge)
    test_images, test_labels, checked = labelled_images(
        pairs, embeddings, "test", settings["check_pairs"], seed)
    quality = {f"classifier_{a}": v for a, v in
               accuracy(predict(classifier, test_images), test_labels).items()}
    decoder, _ = load_decoder(snakemake.input.decoder)
    for modality in ("image", "text"):
        quality.update(decoder_agreement(decoder, classifier, getattr(checked, modality),
                                         test_labels, settings, seed, modality))
    encoder = load_encoder(snakemake.params.encoder, snakemake.input.get("checkpoint"))
    prompt = embed_texts(encoder, [settings["prompt"]])[0]
    groups, controls = dimension_sets(snakemake, seed)
    generate = decoder_generator(decoder, settings["steps"], settings["guidance"])
    records, grids = [], []
    for index, wanted in enumerate(settings["references"]):
        reference, row = reference_of(embeddings, pairs, wanted)
        grid = set_grid(generate, prompt, reference, groups, settings["weights"],
                        settings["seeds"]) if groups else None
        control = set_grid(generate, prompt, reference, controls, settings["weights"],
                           settings["control_seeds"])
        if grid is not None:
            records += [judged_records(classifier, grid, groups, settings, row, index)]
        records += [judged_records(classifier, control, controls, settings, row, index)]
        grids.append((first_seed_rows(grid, control), [*groups, *controls],
                      decode_to_array([row["image"]])[0]))
    quality.update(decoded_counts(settings, groups, controls))
    quality.update(decoder_gates(quality, settings["min_colour_agreement"]))
    print(quality, file=runtime.log_stream())
    uncertainty = snakemake.params.uncertainty
    measures = control_measures(pd.concat(records, ignore_index=True),
                                sizes=set_sizes(groups, controls),
                                resamples=uncertainty["resamples"], seed=seed,
                                level=uncertainty["level"])
    measures[DECODER_GATE] = quality[DECODER_GATE]  # the verdict reads it beside the shares
    return measures, quality, grids


def first_seed_rows(grid, control):
    """The first seed's images of the group rows (if any) stacked above the control rows."""
    parts = [part[:, :, 0] for part in (grid, control) if part is not None]
    return np.concatenate(parts)


def decoded_counts(settings, groups, controls) -> dict[str, int]:
    """Images decoded for the grids: groups × weights × seeds and controls × weights ×
    control_seeds, each per reference."""
    per_row = len(settings["weights"]) * len(settings["references"])
    return {"decoded_group_images": len(groups) * per_row * len(settings["seeds"]),
            "decoded_control_images": len(controls) * per_row * len(settings["control_seeds"])}


def unclip_control(snakemake, settings, seed):
    """The Stable unCLIP path (paper A A.4.3): references are image files."""
    unclip = settings["unclip"]
    device = runtime.device()
    precision = unclip.get("precision", "fp32")
    pipeline = load_unclip_pipeline(unclip["pipeline"], device, precision)
    encoder = load_encoder(snakemake.params.encoder, snakemake.input.get("checkpoint"))
    groups, controls = dimension_sets(snakemake, seed)
    references = [open_image(spec["image"]) for spec in settings["references"]]
    embedding_norm = unclip.get("embedding_norm", "auto")
    if embedding_norm == "auto":
        embedding_norm = pipeline_embedding_norm(pipeline)
    runs = [(sets, seeds) for sets, seeds in ((groups, settings["seeds"]),
                                             (controls, settings["control_seeds"])) if sets]
    studies = [unclip_control_study(pipeline, encoder, settings["prompt"], references, sets,
                                    seeds=seeds, steps=settings["steps"],
                                    guidance=settings["guidance"],
                                    noise_level=unclip.get("noise_level", 0),
                                    weights=settings["weights"],
                                    embedding_norm=embedding_norm)
               for sets, seeds in runs]
    measures = pd.concat([m for m, _ in studies], ignore_index=True)
    measures["n_dimensions"] = measures["group"].map(set_sizes(groups, controls))
    quality = {"pipeline": unclip["pipeline"], "device": device,
               "precision": precision if device == "cuda" else "fp32",
               "embedding_norm": embedding_norm,
               **decoded_counts(settings, groups, controls)}
    names = [name for sets, _ in runs for name in sets]
    grids = [(np.concatenate([grids[i][:, :, 0] for _, grids in studies]), names,
              np.asarray(image)) for i, image in enumerate(references)]
    return measures, quality, grids


def with_defaults(settings: dict) -> dict:
    """The settings with ``weights`` (0.0 … 0.7) and ``control_seeds`` (= seeds) filled in."""
    return {"weights": list(DEFAULT_WEIGHTS), "control_seeds": settings["seeds"], **settings}


def main(snakemake):
    settings, seed = with_defaults(snakemake.params.settings), snakemake.params.seed
    runtime.configure(snakemake.threads, seed)
    control = unclip_control if "unclip" in settings else toyworld_control
    measures, quality, grids = control(snakemake, settings, seed)
    write_table(measures, snakemake.output.measures, snakemake.output.markdown)
    write_table(pd.DataFrame([quality]), snakemake.output.quality)
    for (images, names, reference_image), path in zip(grids, snakemake.output.figures,
                                                      strict=True):
        plot_control_grid(images, path, group_names=names, weights=settings["weights"],
                          reference_image=reference_image,
                          title=f"prompt “{settings['prompt']}” → reference")


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
