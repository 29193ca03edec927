"""Rule train_image_expert: the toyworld image expert (every image-visible family), trained on
rendered toyworld images, scored on the test split and gated per family. It is the default image
embedding model h of the monosemanticity scores and the judge of the text-to-image case study."""

from crossmodal import runtime
from crossmodal.image_expert import (
    IMAGE_FAMILIES,
    accuracy,
    majority_rate,
    predict,
    quality_gates,
    save_expert,
    train_image_expert,
)
from crossmodal.images import decode_to_array
from crossmodal.report.tables import write_table
from crossmodal.store import read_frame


def rendered(pairs, split, n, seed):
    """uint8 images and family labels of a seeded sample of n pairs of one split."""
    rows = pairs[pairs["split"] == split]
    rows = rows.sample(n=min(n, len(rows)), random_state=seed).sort_index()
    return (decode_to_array(list(rows["image"])),
            {family: rows[family].astype(str).to_numpy() for family in IMAGE_FAMILIES})


def main(snakemake):
    settings, seed = snakemake.params.settings, snakemake.params.seed
    runtime.configure(snakemake.threads, seed)
    pairs = read_frame(snakemake.input.pairs, ["split", "image", *IMAGE_FAMILIES])
    images, labels = rendered(pairs, "train", settings["pairs"], seed)
    model = train_image_expert(images, labels, seed=seed, epochs=settings["epochs"],
                               image_size=settings["image_size"], width=settings["width"])
    test_images, test_labels = rendered(pairs, "test", settings["test_pairs"], seed)
    scores = accuracy(predict(model, test_images), test_labels)
    gates = settings["gates"]
    quality = quality_gates(scores, majority_rate(test_labels), gates["min_accuracy"],
                            gates["min_margin"])
    print(f"image expert on {len(test_images)} test renders:\n{quality.to_string()}",
          file=runtime.log_stream())
    failed = quality.loc[~quality["passed"], "family"].tolist()
    if failed:
        print(f"image expert gate failed for {failed} (see image_expert_quality.csv)",
              file=runtime.log_stream())
    save_expert(snakemake.output.model, model, {"test_accuracy": scores})
    write_table(quality, snakemake.output.quality)


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
