"""Rule feature_gallery: top images and captions of latents from each group, on one page."""

from crossmodal import runtime
from crossmodal.data.source import image_columns, open_images
from crossmodal.dictionaries.checkpoint import load_with_embeddings
from crossmodal.monosemanticity.evaluate import top_rows
from crossmodal.report.galleries import (
    DEFAULT_INTRO,
    gallery_entries,
    select_gallery_latents,
    write_gallery_page,
)
from crossmodal.store import read_frame


def main(snakemake):
    settings, seed = snakemake.params.settings, snakemake.params.seed
    runtime.configure(snakemake.threads, seed)
    model, _, embeddings = load_with_embeddings(snakemake.input.model,
                                                snakemake.input.embeddings, snakemake.params.split)
    model.to(runtime.device())
    features = read_frame(snakemake.input.features)
    selection = select_gallery_latents(features, settings["per_gallery"], seed)
    latents = selection["latent"].unique()
    image_rows, image_values = top_rows(model, embeddings.image, latents, settings["images"])
    text_rows, text_values = top_rows(model, embeddings.text, latents, settings["texts"])
    pairs = read_frame(snakemake.input.pairs, ["pair_id", *image_columns(snakemake.input.pairs)])
    pairs = pairs.set_index("pair_id")
    pair_ids = embeddings.pairs["pair_id"].to_numpy()
    captions = embeddings.pairs["caption"].to_numpy()
    top_images, top_texts = {}, {}
    for i, latent in enumerate(latents):
        # only rows where the latent fires: a rare latent shows fewer than `images` tiles
        shown = [(row, value) for row, value in zip(image_rows[i], image_values[i]) if value > 0]
        images = open_images(pairs.loc[[pair_ids[row] for row, _ in shown]])
        top_images[int(latent)] = [(image, value) for image, (_, value) in zip(images, shown)]
        top_texts[int(latent)] = [(captions[row], value)
                                  for row, value in zip(text_rows[i], text_values[i]) if value > 0]
    entries = gallery_entries(features, selection, top_images, top_texts, snakemake.output.page)
    title = f"Feature galleries: {snakemake.wildcards.encoder} / {snakemake.wildcards.method}"
    write_gallery_page(entries, snakemake.output.page, title, DEFAULT_INTRO)


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
