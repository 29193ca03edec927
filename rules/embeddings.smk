rule extract_embeddings:
    """Embed every pair of a dataset, or only the splits `extract.splits` names for the
    encoder: results/embeddings/{encoder}/{dataset}.parquet."""
    input:
        unpack(encoder_inputs),
        pairs=dataset_pairs,
    output:
        embeddings="results/embeddings/{encoder}/{dataset}.parquet",
    params:
        encoder=encoder_load_spec,
        splits=lambda w: config["extract"].get("splits", {}).get(w.encoder),
        seed=config["seed"],
    log:
        "results/logs/embeddings/{encoder}/{dataset}.log",
    benchmark:
        "results/benchmarks/embeddings/{encoder}/{dataset}.tsv"
    threads: encoder_job_threads
    priority: 5  # every analysis and the decoder wait on the embeddings
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=1,
    conda:
        "../envs/encoders.yaml"
    script:
        "../workflow/scripts/extract_embeddings.py"
