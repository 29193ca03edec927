# Case studies: the config block, the input functions and the targets of rules/case_studies.smk.

CASE_STUDIES = config.get("case_studies", {})


def attribute_inputs(wildcards):
    """Case study 1's Multimodal SAE, its features, embeddings and the pairs (figure 7)."""
    encoder, method = CASE_STUDIES["attribute"]["model"].split("/")
    inputs = {
        "model": f"results/dictionaries/{encoder}/{method}/model.pt",
        "features": f"results/features/{encoder}/{method}/{ANALYSIS_DATASET}.parquet",
        "embeddings": f"results/embeddings/{encoder}/{ANALYSIS_DATASET}.parquet",
        "pairs": f"results/data/{ANALYSIS_DATASET}/pairs.parquet",
    }
    if "labeller" in CASE_STUDIES["attribute"]:  # real data: labels from an image classifier
        inputs["labels"] = f"results/data/{ANALYSIS_DATASET}/attribute_labels.parquet"
    return inputs


def adversarial_victim():
    """case_studies.adversarial.victim: the encoder's own zero-shot judge unless a LLaVA is named."""
    return CASE_STUDIES.get("adversarial", {}).get("victim", {"kind": "encoder"})


def adversarial_inputs(wildcards):
    """Case study 2's encoder (checkpoint for toy encoders), its raw-dimension MDS groups and the
    pairs (benign images without words)."""
    encoder = CASE_STUDIES["adversarial"]["encoder"]
    inputs = {
        "features": f"results/features/{encoder}/raw/{ANALYSIS_DATASET}.parquet",
        "pairs": f"results/data/{ANALYSIS_DATASET}/pairs.parquet",
    }
    if config["encoders"][encoder]["backend"] == "toy":
        inputs["checkpoint"] = f"results/encoders/{encoder}/model.pt"
    return inputs


# what text_to_image_control reads of `case_studies.text_to_image` (train_pairs and decoder are
# the decoder's; encoder picks the inputs)
CONTROL_KEYS = ("check_pairs", "min_colour_agreement", "steps", "guidance", "weights", "prompt",
                "prompt_attributes", "references", "seeds", "control_seeds", "unclip")


def text_to_image_inputs(wildcards):
    """Case study 3: the decoder, the encoder (prompt embedding), raw-dimension MDS groups, the
    embeddings (references) and the pairs (images for the judge, the toyworld image expert). With
    ``unclip`` (real data) the generator is Stable unCLIP: no toy decoder or judge."""
    encoder = CASE_STUDIES["text_to_image"]["encoder"]
    toy = {} if "unclip" in CASE_STUDIES["text_to_image"] else {
        "decoder": f"results/case_studies/decoder/{encoder}/model.pt",
        "judge": IMAGE_EXPERT_MODEL,
    }
    inputs = {
        **toy,
        "features": f"results/features/{encoder}/raw/{ANALYSIS_DATASET}.parquet",
        "embeddings": f"results/embeddings/{encoder}/{ANALYSIS_DATASET}.parquet",
        "pairs": f"results/data/{ANALYSIS_DATASET}/pairs.parquet",
    }
    if config["encoders"][encoder]["backend"] == "toy":
        inputs["checkpoint"] = f"results/encoders/{encoder}/model.pt"
    return inputs


def case_study_targets():
    """The tables and figures of the configured case studies."""
    targets = []
    if "attribute" in CASE_STUDIES:
        targets += [
            "results/tables/paperA_table1.csv",
            "results/tables/paperA_table2.csv",
            "results/tables/paperA_table6.csv",
            "results/tables/attribute_asymmetry.csv",
            "results/figures/attribute_examples.png",
        ]
    if "adversarial" in CASE_STUDIES:
        targets += ["results/tables/paperA_table3.csv"]
    if "text_to_image" in CASE_STUDIES:
        references = CASE_STUDIES["text_to_image"]["references"]
        targets += ["results/tables/control_measures.csv"]
        targets += [f"results/figures/control_grid_{i}.png" for i in range(len(references))]
    return targets
