rule latent_features:
    """One row per latent (energies, frequencies, μ, MDS, groups, best toyworld concept) and one
    row per ground-truth concept (its best latent and whether it lands in the right group)."""
    input:
        model="results/dictionaries/{encoder}/{method}/model.pt",
        embeddings="results/embeddings/{encoder}/{dataset}.parquet",
    output:
        features="results/features/{encoder}/{method}/{dataset}.parquet",
        concepts="results/features/{encoder}/{method}/{dataset}_concepts.parquet",
    params:
        analysis=config.get("analysis"),
        seed=config["seed"],
    log:
        "results/logs/features/{encoder}/{method}/{dataset}.log",
    benchmark:
        "results/benchmarks/features/{encoder}/{method}/{dataset}.tsv"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/latent_features.py"
