"""Rule attribute_study: paper A case study 1 (tables 1, 2, 6 and figure 7) on one model."""

import numpy as np

from crossmodal import runtime
from crossmodal.case_studies.attribute import (
    ModalityData,
    accuracy_drops,
    asymmetry_verdict,
    bucket_words,
    class_roles,
    decode_without,
    drop_half_widths,
    share_buckets,
    study_frame,
    study_outcomes,
    table1,
    table2,
    top_group_share,
    toyworld_cue_words,
)
from crossmodal.dictionaries.checkpoint import load_dictionary
from crossmodal.dictionaries.evaluate import encode_in_batches
from crossmodal.images import decode_image
from crossmodal.report.case_study_figures import plot_share_examples
from crossmodal.report.tables import write_table
from crossmodal.store import read_embeddings, read_frame


def with_classifier_labels(embeddings, labels_path, label):
    """Real data: keep the pairs the image classifier labelled, with its class as ``label`` and
    its confidence as the reference flag of both modalities (paper A appendix A.4.1)."""
    labels = read_frame(labels_path).set_index("pair_id")
    kept = embeddings.subset(embeddings.pairs["pair_id"].isin(labels.index).to_numpy())
    rows = labels.loc[kept.pairs["pair_id"]]
    kept.pairs[label] = rows["attribute"].to_numpy()
    kept.pairs["confident"] = rows["confident"].to_numpy(dtype=bool)
    return kept


def modality_data(model, train, evaluated, modality, settings):
    """Training reconstructions (references, probe) and evaluated codes of one modality."""
    label, confident = settings["label"], settings["confident_columns"][modality]
    train_codes = encode_in_batches(model, getattr(train, modality))
    return ModalityData(
        train_x=decode_without(model, train_codes, np.array([], dtype=np.int64)),
        train_labels=train.pairs[label].to_numpy(),
        train_confident=train.pairs[confident].to_numpy(dtype=bool),
        codes=encode_in_batches(model, getattr(evaluated, modality)),
        labels=evaluated.pairs[label].to_numpy())


def figure7(data, evaluated, groups, settings, pairs_path, path, image_class):
    """The image-cued class's images ordered by their ImgD share, one per share bucket."""
    chosen = np.flatnonzero(data.labels == image_class)
    shares = top_group_share(data.codes[chosen], groups, "ImgD", settings["top"])
    order = chosen[np.argsort(np.nan_to_num(shares, nan=-1.0), kind="stable")]
    picks = order[np.linspace(0, len(order) - 1, settings["examples"]).astype(int)]
    images = read_frame(pairs_path, ["pair_id", "image"]).set_index("pair_id")["image"]
    ids = evaluated.pairs["pair_id"].to_numpy()[picks]
    pick_shares = top_group_share(data.codes[picks], groups, "ImgD", settings["top"])
    plot_share_examples([decode_image(images[i]) for i in ids], pick_shares, path,
                        f"'{image_class}' images ordered by their share of ImgD latents "
                        f"among the top-{settings['top']} activations")


def main(snakemake):
    settings, seed = snakemake.params.settings, snakemake.params.seed
    runtime.configure(snakemake.threads, seed)
    model, _ = load_dictionary(snakemake.input.model)
    model.to(runtime.device())
    groups = read_frame(snakemake.input.features, ["mds_group"])["mds_group"].to_numpy()
    embeddings = read_embeddings(snakemake.input.embeddings)
    labels = snakemake.input.get("labels")  # real data: the image classifier's labels
    if labels:
        embeddings = with_classifier_labels(embeddings, labels, settings["label"])
    train = embeddings.split("train").subsample(settings["train_pairs"], seed)
    evaluated = embeddings.split(settings["split"])
    data = {m: modality_data(model, train, evaluated, m, settings) for m in ("image", "text")}
    classes = settings["classes"]
    uncertainty = snakemake.params.uncertainty
    outcomes = study_outcomes(model, data, groups, classes, settings["seeds"])
    widths = drop_half_widths(outcomes, classes, uncertainty["resamples"], seed,
                              uncertainty["level"])
    drops = accuracy_drops(study_frame(outcomes, classes), widths)
    second = table2(drops, classes, settings.get("paper_classes"))
    first = table1(drops)
    print(first.to_string(), file=runtime.log_stream())
    write_table(first, snakemake.output.table1, snakemake.output.table1_md)
    write_table(second, snakemake.output.table2, snakemake.output.table2_md)
    cues = snakemake.params.cues
    verdict = asymmetry_verdict(second, cues, settings.get("paper_classes"))
    print(verdict.to_string(), file=runtime.log_stream())
    write_table(verdict, snakemake.output.verdict)
    roles = class_roles(classes, cues, settings.get("paper_classes"))
    text_class, image_class = roles["text"], roles["image"]
    chosen = data["text"].labels == text_class
    shares = top_group_share(data["text"].codes[chosen], groups, "TextD", settings["top"])
    buckets = share_buckets(shares, settings["buckets"])
    # toyworld (configured cues): the words its captions use for the text cue; real data: none
    words = bucket_words(evaluated.pairs["caption"].to_numpy()[chosen], buckets, shares,
                         settings["removed_words"],
                         cue_words=toyworld_cue_words(text_class) if cues else (),
                         resamples=uncertainty["resamples"], seed=seed,
                         level=uncertainty["level"])
    write_table(words.assign(**{"class": text_class}), snakemake.output.table6,
                         snakemake.output.table6_md)
    figure7(data["image"], evaluated, groups, settings, snakemake.input.pairs,
            snakemake.output.figure, image_class)


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
