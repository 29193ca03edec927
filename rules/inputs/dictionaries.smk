# Dictionaries: the targets, gates and input functions of rules/dictionaries.smk.

DICTIONARY_TARGETS = [
    (encoder, method)
    for encoder, methods in sorted(config.get("dictionary_targets", {}).items())
    for method in methods
]


BETA_SWEEPS = [
    (e, m) for e, m in DICTIONARY_TARGETS if config["dictionaries"][m].get("beta") == "auto"
]


GATED_DICTIONARIES = [
    (e, m) for e, m in DICTIONARY_TARGETS
    if config["dictionaries"][m]["architecture"]
    in config.get("dictionary_gates", {}).get("architectures", ["mp"])
]


def dictionary_gate_inputs(wildcards):
    """Metric rows of the gated dictionaries, the dictionaries table and, on toyworld, the
    per-concept ground-truth table."""
    inputs = {
        "metrics": [f"results/metrics/{e}/{m}.csv" for e, m in GATED_DICTIONARIES],
        "summary": "results/tables/dictionaries.csv",
    }
    if DATASET_KINDS.get(ANALYSIS_DATASET) == "toyworld":
        inputs["concepts"] = "results/tables/groundtruth_concepts.csv"
    return inputs


def dictionary_config(wildcards):
    """The ``dictionaries.<method>`` block a target names, or one line saying which exist."""
    name = wildcards.method
    if name not in config.get("dictionaries", {}):
        raise WorkflowError(
            f"unknown dictionary '{name}' in target; config 'dictionaries' has {DICTIONARIES}"
        )
    return config["dictionaries"][name]


# what crossmodal.dictionaries.settings (training_pairs, training_settings) and the training
# scripts read of `dictionary_training` (its `dataset` picks the input; checkpoint_every is a
# logging knob, read from snakemake.config)
DICTIONARY_TRAINING_KEYS = (
    "split", "pairs", "epochs", "batch_size", "lr", "grad_clip", "alignment",
    "stop_when_active_stable", "patience", "tolerance", "window_steps", "warmup_steps",
    "decay_steps",
)


def dictionary_training():
    return pick(config.get("dictionary_training"), *DICTIONARY_TRAINING_KEYS)


def dictionary_spec(wildcards):
    """The ``dictionaries.<method>`` block less its logging knob (checkpoint_every)."""
    return without(dictionary_config(wildcards), "checkpoint_every")


def dictionary_training_inputs(wildcards):
    inputs = {
        "embeddings": f"results/embeddings/{wildcards.encoder}/"
        f"{config['dictionary_training']['dataset']}.parquet"
    }
    if dictionary_config(wildcards).get("beta") == "auto":
        inputs["beta_sweep"] = (
            f"results/dictionaries/{wildcards.encoder}/{wildcards.method}/beta_sweep.csv"
        )
    return inputs
