"""Rule attribute_labels: label a real dataset's images with case study 1's binary attribute."""

from tqdm import tqdm

from crossmodal import runtime
from crossmodal.case_studies.attribute_labels import (
    attribute_labels,
    check_label_map,
    load_image_classifier,
    top_predictions,
)
from crossmodal.data.source import image_columns, open_images
from crossmodal.store import read_frame, write_frame


def main(snakemake):
    labeller = snakemake.params.labeller
    runtime.configure(snakemake.threads, 0)
    # the inference batch is a performance knob: read from the config, not a param
    batch = int(snakemake.config["case_studies"]["attribute"]["labeller"].get("batch_size", 64))
    classifier = load_image_classifier(labeller["model"], runtime.device(), batch)
    check_label_map(labeller["model"], classifier.model.config.id2label, labeller["labels"],
                    snakemake.params.classes)
    pairs = read_frame(snakemake.input.pairs, ["pair_id", *image_columns(snakemake.input.pairs)])
    predictions = []
    for start in tqdm(range(0, len(pairs), batch), desc="label images", unit="batch",
                      file=runtime.log_stream(), mininterval=10):
        predictions += top_predictions(classifier, open_images(pairs.iloc[start:start + batch]))
    labels, dropped = attribute_labels(list(pairs["pair_id"]), predictions, labeller["labels"],
                                       labeller.get("threshold", 0.9))
    print(f"labelled {len(labels)} pairs ({int(labels['confident'].sum())} confident), dropped "
          f"{dropped} whose top label is not in {sorted(labeller['labels'])}",
          file=runtime.log_stream())
    write_frame(labels, snakemake.output.labels, {"classifier": labeller["model"]})


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
