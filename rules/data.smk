rule toyworld_data:
    """Render toyworld: train / test / shifted splits and edit triplets."""
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
    # every toyworld job waits on it: without a priority snakemake may start a 1-thread job that
    # needs no data first, and this all-core job then waits for it with the other core idle
    priority: 20
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


rule webdataset_data:
    """Index webdataset tar shards (img2dataset: {key}.jpg/.txt/.json) into pairs: one row per
    usable sample, the image referenced by shard path and tar member."""
    output:
        pairs="results/data/{dataset}/pairs.parquet",
    wildcard_constraints:
        dataset=datasets_of_kind("webdataset"),
    params:
        dataset=dataset_config,
        seed=config["seed"],
    log:
        "results/logs/data/{dataset}.log",
    benchmark:
        "results/benchmarks/data/{dataset}.tsv"
    threads: HEAVY_THREADS
    resources:
        mem_mb=8000,
        runtime=240,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/webdataset_data.py"


rule coco_data:
    """COCO captions 2017 as pairs, one per caption, with the image's category labels."""
    output:
        pairs="results/data/{dataset}/pairs.parquet",
    wildcard_constraints:
        dataset=datasets_of_kind("coco"),
    params:
        dataset=dataset_config,
        seed=config["seed"],
    log:
        "results/logs/data/{dataset}.log",
    benchmark:
        "results/benchmarks/data/{dataset}.tsv"
    threads: HEAVY_THREADS
    resources:
        mem_mb=8000,
        runtime=120,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/coco_data.py"


rule imagefolder_data:
    """ImageNet-style class folders as pairs: caption = a class prompt, label = the class."""
    output:
        pairs="results/data/{dataset}/pairs.parquet",
    wildcard_constraints:
        dataset=datasets_of_kind("imagefolder"),
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
        runtime=120,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/imagefolder_data.py"


rule table_data:
    """A CSV/parquet table of (image path, caption, extra label columns) as pairs."""
    output:
        pairs="results/data/{dataset}/pairs.parquet",
    wildcard_constraints:
        dataset=datasets_of_kind("table"),
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
        runtime=60,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/table_data.py"
