rule toyworld_data:
    """Render toyworld: train / test / shifted splits and edit triplets (DESIGN §3)."""
    output:
        pairs="results/data/{dataset}/pairs.parquet",
        edits="results/data/{dataset}/edits.parquet",
    wildcard_constraints:
        dataset=datasets_of_kind("toyworld"),
    params:
        dataset=dataset_config,
        seed=config["seed"],
    log:
        "results/logs/data/{dataset}.log",
    benchmark:
        "results/benchmarks/data/{dataset}.tsv"
    threads: HEAVY_THREADS
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/toyworld_data.py"


rule fashioniq_data:
    """A FashionIQ download as pairs (gallery images) and edits (one row per relative caption)."""
    output:
        pairs="results/data/{dataset}/pairs.parquet",
        edits="results/data/{dataset}/edits.parquet",
    wildcard_constraints:
        dataset=datasets_of_kind("fashioniq"),
    params:
        dataset=dataset_config,
        seed=config["seed"],
    log:
        "results/logs/data/{dataset}.log",
    benchmark:
        "results/benchmarks/data/{dataset}.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/fashioniq_data.py"
