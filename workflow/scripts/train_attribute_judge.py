"""Rule train_attribute_judge: the classifier that reads shape, colour and background texture
off images for case study 3, trained on rendered toyworld images and scored on the test split."""

import pandas as pd

from crossmodal import runtime
from crossmodal.case_studies.shape_classifier import (
    accuracy,
    predict,
    save_classifier,
    train_attribute_classifier,
)
from crossmodal.case_studies.text_to_image import ATTRIBUTES
from crossmodal.images import decode_to_array
from crossmodal.report.tables import write_table
from crossmodal.store import read_frame


def rendered(pairs, split, n, seed):
    """uint8 images and attribute labels of a seeded sample of n pairs of one split."""
    rows = pairs[pairs["split"] == split]
    rows = rows.sample(n=min(n, len(rows)), random_state=seed).sort_index()
    return (decode_to_array(list(rows["image"])),
            {a: rows[a].astype(str).to_numpy() for a in ATTRIBUTES})


def main(snakemake):
    settings, seed = snakemake.params.settings, snakemake.params.seed
    runtime.configure(snakemake.threads, seed)
    pairs = read_frame(snakemake.input.pairs, ["split", "image", *ATTRIBUTES])
    images, labels = rendered(pairs, "train", settings["pairs"], seed)
    model = train_attribute_classifier(images, labels, seed=seed, epochs=settings["epochs"],
                                       width=settings.get("width", 32))
    test_images, test_labels = rendered(pairs, "test", settings["test_pairs"], seed)
    scores = accuracy(predict(model, test_images), test_labels)
    print(f"judge accuracy on {len(test_images)} test renders: {scores}",
          file=runtime.log_stream())
    save_classifier(snakemake.output.model, model, {"test_accuracy": scores})
    write_table(pd.DataFrame([{f"accuracy_{a}": v for a, v in scores.items()}]),
                snakemake.output.quality)


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
