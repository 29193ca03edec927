# Monosemanticity: the config block, the input functions and the targets of rules/monosemanticity.smk.

MONO = config.get("monosemanticity", {})
MONO_DATASET = MONO.get("dataset", "")
MONO_MODELS = MONO.get("models", {})
MONO_CURVES = MONO.get("training_curves", [])
GALLERY_MODELS = MONO.get("galleries", {}).get("models", [])
# what monosemanticity_scores and monosemanticity_over_training read of `monosemanticity`
MONO_SCORE_KEYS = ("split", "m", "epsilon", "denominator")


IMAGE_EXPERT = config.get("image_expert", {})
IMAGE_EXPERT_MODEL = "results/image_expert/model.pt"


def h_image_input(dataset):
    """The images' h-embeddings: the toyworld image expert's or a transformers model's (an h
    parquet), or the named encoder's own image tower (kind encoder: not neutral)."""
    embedder = MONO["image_embedder"]
    if embedder["kind"] == "encoder":
        return f"results/embeddings/{embedder['encoder']}/{dataset}.parquet"
    return f"results/monosemanticity/h/{dataset}.image.parquet"


def embed_h_inputs(wildcards):
    """The pairs, plus the trained image expert when the image h is ``toyworld_expert``."""
    inputs = {"pairs": f"results/data/{wildcards.dataset}/pairs.parquet"}
    if wildcards.modality == "image" and MONO["image_embedder"]["kind"] == "toyworld_expert":
        inputs["expert"] = IMAGE_EXPERT_MODEL
    return inputs


def monosemanticity_files(encoder, method):
    """One model's dictionary, its encoder's embeddings, its features and the h-embeddings."""
    dataset = MONO_DATASET
    return {
        "model": f"results/dictionaries/{encoder}/{method}/model.pt",
        "embeddings": f"results/embeddings/{encoder}/{dataset}.parquet",
        "features": f"results/features/{encoder}/{method}/{dataset}.parquet",
        "h_text": f"results/monosemanticity/h/{dataset}.text.parquet",
        "h_image": h_image_input(dataset),
    }


def monosemanticity_inputs(wildcards):
    return monosemanticity_files(wildcards.encoder, wildcards.method)


def classification_inputs(wildcards):
    """The model the ICLR table-1 check runs on, with its embeddings and MDS groups on the
    labelled dataset (``classification.dataset``, default the monosemanticity dataset)."""
    encoder, method = MONO["classification"]["model"].split("/")
    dataset = MONO["classification"].get("dataset", MONO_DATASET)
    return {
        "model": f"results/dictionaries/{encoder}/{method}/model.pt",
        "embeddings": f"results/embeddings/{encoder}/{dataset}.parquet",
        "features": f"results/features/{encoder}/{method}/{dataset}.parquet",
    }


def gallery_page(encoder, method):
    return f"results/galleries/{encoder}.{method}/index.html"


def monosemanticity_targets():
    """Paper A tables 4, 5, the ICLR table 1, figures 2, 3, 13 and the gallery pages."""
    if not MONO:
        return []
    toyworld = DATASET_KINDS.get(MONO_DATASET) == "toyworld" and DICTIONARY_TARGETS
    return [
        *(["results/tables/paperA_mono_groundtruth.csv"] if toyworld else []),
        "results/tables/paperA_table4.csv",
        "results/tables/paperA_table5.csv",
        "results/tables/paperA_iclr_table1.csv",
        "results/figures/mono_models.png",
        "results/figures/mono_modality.png",
        "results/figures/mono_training.png",
        *[gallery_page(*target.split("/")) for target in GALLERY_MODELS],
    ]
