# Data: the input functions of rules/data.smk.

def dataset_config(wildcards):
    """The config block of the dataset a target names, or one line saying which exist."""
    name = wildcards.dataset
    if name not in config["datasets"]:
        raise WorkflowError(
            f"unknown dataset '{name}' in target; config 'datasets' has {DATASETS}"
        )
    return config["datasets"][name]


def dataset_pairs(wildcards):
    """results/data/{dataset}/pairs.parquet of a configured dataset (one line if unknown)."""
    dataset_config(wildcards)
    return f"results/data/{wildcards.dataset}/pairs.parquet"
