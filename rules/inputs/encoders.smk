# Encoders: what loading an encoder reads, and the input functions of rules/encoders.smk and
# rules/embeddings.smk.

# what crossmodal.encoders.load_encoder reads of an `encoders.<name>` block (a toy encoder is
# its checkpoint, an input)
ENCODER_LOAD_KEYS = ("backend", "name", "pretrained", "cache_dir", "precision", "model",
                     "model_config")


def encoder_spec(name):
    """The keys of encoder ``name``'s block that loading it reads."""
    return pick(config["encoders"][name], *ENCODER_LOAD_KEYS)


def encoder_load_spec(wildcards):
    """:func:`encoder_spec` of the job's ``{encoder}`` (one line if unknown)."""
    encoder_config(wildcards)
    return encoder_spec(wildcards.encoder)


def encoder_config(wildcards):
    """The config block of the encoder a target names, or one line saying which exist."""
    name = wildcards.encoder
    if name not in config["encoders"]:
        raise WorkflowError(
            f"unknown encoder '{name}' in target; config 'encoders' has {ENCODERS}"
        )
    return config["encoders"][name]


def encoder_inputs(wildcards):
    """What embedding an encoder needs: the trained checkpoint for toy encoders, nothing else."""
    if encoder_config(wildcards)["backend"] == "toy":
        return {"checkpoint": f"results/encoders/{wildcards.encoder}/model.pt"}
    return {}
