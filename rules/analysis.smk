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
        analysis=feature_params(),
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


rule modality_figures:
    """Paper B figure 2 (energy per modality; atoms projected, coloured by group) and figures
    16–17 (high-energy unimodal atoms) for one dictionary."""
    input:
        model="results/dictionaries/{encoder}/{method}/model.pt",
        features=f"results/features/{{encoder}}/{{method}}/{ANALYSIS_DATASET}.parquet",
    output:
        energy=report(
            "results/figures/energy_{encoder}.{method}.png",
            caption="../report/energy.rst",
            category="Modality",
        ),
        unimodal=report(
            "results/figures/unimodal_{encoder}.{method}.png",
            caption="../report/unimodal.rst",
            category="Modality",
        ),
    params:
        tau=config.get("analysis", {}).get("tau"),
    log:
        "results/logs/modality_figures/{encoder}/{method}.log",
    benchmark:
        "results/benchmarks/modality_figures/{encoder}/{method}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/modality_figures.py"


rule mds_figure:
    """Paper A figure 1: MDS distributions of the three groups for the configured panels."""
    input:
        features=[
            f"results/features/{target}/{ANALYSIS_DATASET}.parquet" for target in MDS_PANELS.values()
        ],
    output:
        figure=report(
            "results/figures/mds_groups.png", caption="../report/mds.rst", category="Modality"
        ),
    params:
        labels=list(MDS_PANELS),
    log:
        "results/logs/mds_figure.log",
    benchmark:
        "results/benchmarks/mds_figure.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/mds_figure.py"
