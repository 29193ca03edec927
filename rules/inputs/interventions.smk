# Interventions: the config block, the input functions and the targets of rules/interventions.smk.

INTERVENTIONS = config.get("interventions", {})
INTERVENTION_ENCODERS = INTERVENTIONS.get("encoders", [])
# paper B gap-removal table → (dataset, split) it evaluates; table 11's is the labelled one
INTERVENTION_EVALUATIONS = intervention_evaluations(config)
LABELLED_EVALUATION = INTERVENTION_EVALUATIONS.get("table11")
INTERVENTION_TABLES = ["table2", "table7", "table8", "table9", "table10", "table11", "table12"]


def gap_file(encoder, table, suffix=".csv"):
    """The gap-removal output of ``encoder`` for paper B table ``table``'s evaluated split."""
    dataset, split = INTERVENTION_EVALUATIONS[table]
    return f"results/interventions/{encoder}/{dataset}/gap_{split}{suffix}"


def gap_removal_settings(dataset, split):
    """What gap_removal reads of `interventions` on ``dataset``'s ``split``: the zero-shot
    family and the probe's pairs and split only on table 11's (the labelled one)."""
    keys = ["max_pairs", "ood_k", "wasserstein_samples", "schrodi_share", "recall_batch_size"]
    if (dataset, split) == LABELLED_EVALUATION:
        keys += ["zero_shot_family", "probe_pairs", "probe_split"]
    return pick(INTERVENTIONS, *keys)


def intervention_dictionary_inputs(wildcards):
    """The interventions' dictionary of one encoder, its features (bimodal mask) and embeddings."""
    method = intervention_dictionary(INTERVENTIONS, wildcards.encoder)
    dataset = ANALYSIS_DATASET
    return {
        "model": f"results/dictionaries/{wildcards.encoder}/{method}/model.pt",
        "features": f"results/features/{wildcards.encoder}/{method}/{dataset}.parquet",
        "embeddings": f"results/embeddings/{wildcards.encoder}/{dataset}.parquet",
    }


def gap_removal_inputs(wildcards):
    """The dictionary inputs (its analysis-dataset embeddings as ``reference``, where the
    baselines are fitted), the evaluated dataset's embeddings and, on table 11's split, its
    zero-shot class vectors."""
    inputs = intervention_dictionary_inputs(wildcards)
    inputs["reference"] = inputs.pop("embeddings")
    inputs["embeddings"] = f"results/embeddings/{wildcards.encoder}/{wildcards.dataset}.parquet"
    if (wildcards.dataset, wildcards.split) == LABELLED_EVALUATION:
        inputs["prompts"] = (
            f"results/embeddings/{wildcards.encoder}/{wildcards.dataset}.prompts.parquet"
        )
    return inputs


def class_prompt_inputs(wildcards):
    """The encoder's checkpoint (toy), and for ``label`` classes the dataset's pairs (their class
    names, with the 80 CLIP templates); toyworld families bring their own prompts."""
    inputs = encoder_inputs(wildcards)
    if INTERVENTIONS.get("zero_shot_family") == "label":
        inputs["pairs"] = dataset_pairs(wildcards)
    return inputs


ARITHMETIC_DATASET = INTERVENTIONS.get("arithmetic_dataset", ANALYSIS_DATASET)


def arithmetic_inputs(wildcards):
    """The dictionary and its bimodal mask, and from the arithmetic data set (toyworld's edit
    triplets or FashionIQ): the embeddings, the embedded relative captions and the pairs."""
    dataset = ARITHMETIC_DATASET
    return {
        **intervention_dictionary_inputs(wildcards),
        "embeddings": f"results/embeddings/{wildcards.encoder}/{dataset}.parquet",
        "edits": f"results/embeddings/{wildcards.encoder}/{dataset}.edits.parquet",
        "pairs": f"results/data/{dataset}/pairs.parquet",
    }


def intervention_targets():
    """Paper B tables 2, 7–12 and the intervention figures (empty without 'interventions')."""
    if not INTERVENTIONS:
        return []
    targets = [f"results/tables/paperB_{name}.csv" for name in INTERVENTION_TABLES]
    targets.append("results/figures/gap_illustration.png")
    for encoder in INTERVENTION_ENCODERS:
        targets += [
            f"results/figures/gap_knn_{encoder}.png",
            f"results/figures/embedding_pca_{encoder}.png",
            f"results/figures/arithmetic_ood_{encoder}.png",
            f"results/figures/arithmetic_example_{encoder}.png",
        ]
    return targets
