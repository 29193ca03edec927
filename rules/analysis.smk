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
        analysis=analysis_params("split", "tau", "groundtruth_pairs"),
        seed=config["seed"],
    log:
        "results/logs/features/{encoder}/{method}/{dataset}.log",
    benchmark:
        "results/benchmarks/features/{encoder}/{method}/{dataset}.tsv"
    threads: light_encoder_job_threads
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


rule dictionary_metrics:
    """Paper B appendix E metrics of one dictionary (reconstruction, structure in D and ZᵀZ, ρ,
    FDA, δ_r@1, p_acc; stability when replicas with other seeds are configured), each with the
    half-width "<metric> ±" of its 95 % interval: t over the seed replicas when there are any,
    else a seeded bootstrap over the evaluation pairs (geometry/resampling.py)."""
    input:
        model="results/dictionaries/{encoder}/{method}/model.pt",
        embeddings=f"results/embeddings/{{encoder}}/{ANALYSIS_DATASET}.parquet",
        replicas=replica_models,
    output:
        row="results/metrics/{encoder}/{method}.csv",
        bridge="results/metrics/{encoder}/{method}_bridge.csv",
    params:
        analysis=analysis_params("split", "tau"),
        conventions=config.get("analysis", {}).get("conventions", "authors"),
        uncertainty=UNCERTAINTY,
        intervals=metric_intervals,
        seed=config["seed"],
    log:
        "results/logs/metrics/{encoder}/{method}.log",
    benchmark:
        "results/benchmarks/metrics/{encoder}/{method}.tsv"
    threads: encoder_job_threads
    resources:
        mem_mb=6000,
        runtime=30,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/dictionary_metrics.py"


rule paper_b_table1:
    """Paper B table 1: SAE vs SAE-A per encoder (MSE, R², p_acc, ρ, FDA, δ_r@1)."""
    input:
        rows=[f"results/metrics/{e}/{m}.csv" for e, m in TABLE1_MODELS],
    output:
        csv=report("results/tables/paperB_table1.csv", caption="../report/paperB_tables.rst",
                   category="Modality"),
        markdown="results/tables/paperB_table1.md",
    params:
        encoders=[encoder for encoder, _ in TABLE1_MODELS],
        uncertainty=pick(UNCERTAINTY, "level"),
    log:
        "results/logs/tables/paperB_table1.log",
    benchmark:
        "results/benchmarks/tables/paperB_table1.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/paper_b_table.py"


rule paper_b_architecture_table:
    """Paper B tables 3 (expansion 8, ℓ0 20) and 4 (expansion 64, ℓ0 50): every metric for each
    architecture, the paper's CLIP numbers beside ours."""
    input:
        rows=lambda wildcards: [f"results/metrics/{e}/{m}.csv" for e, m in table_models(wildcards.table)],
    output:
        csv=report("results/tables/paperB_{table}.csv", caption="../report/paperB_tables.rst",
                   category="Modality"),
        markdown="results/tables/paperB_{table}.md",
    wildcard_constraints:
        table="table3|table4",
    params:
        labels=lambda wildcards: list(config["paper_b"][wildcards.table]["columns"]),
        uncertainty=pick(UNCERTAINTY, "level"),
    log:
        "results/logs/tables/paperB_{table}.log",
    benchmark:
        "results/benchmarks/tables/paperB_{table}.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/paper_b_table.py"


rule paper_b_table5:
    """Paper B appendix C: the toy data-generating process, SAE vs SAE-A recovery of its atoms
    (Wasserstein distance, mean matching accuracy) in both experiments."""
    output:
        csv=report("results/tables/paperB_table5.csv", caption="../report/paperB_table5.rst",
                   category="Modality"),
        markdown="results/tables/paperB_table5.md",
    params:
        toy=config.get("paper_b", {}).get("table5"),
        uncertainty=UNCERTAINTY,
        seed=config["seed"],
    log:
        "results/logs/tables/paperB_table5.log",
    benchmark:
        "results/benchmarks/tables/paperB_table5.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/paper_b_table5.py"


rule groundtruth_recovery:
    """Toyworld ground truth: per concept its best latent and group on each modality that shows
    it, beside the linear-detector AUC of the encoder; per dictionary and concept modality the
    mean AUCs and the share of best latents in the right group."""
    input:
        concepts=feature_files("_concepts"),
        probes=concept_probe_files,
    output:
        csv=report("results/tables/groundtruth_recovery.csv",
                   caption="../report/groundtruth.rst", category="Modality"),
        markdown="results/tables/groundtruth_recovery.md",
        per_concept=report("results/tables/groundtruth_concepts.csv",
                           caption="../report/groundtruth.rst", category="Modality"),
    log:
        "results/logs/tables/groundtruth_recovery.log",
    benchmark:
        "results/benchmarks/tables/groundtruth_recovery.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/groundtruth_recovery.py"


rule dictionary_gates:
    """Pass/fail gates on each Matching Pursuit SAE: stable rank of D, R², bimodal concept
    recovery against a TopK SAE of the same encoder; movement from its initial atoms, δ_r@1."""
    input:
        unpack(dictionary_gate_inputs),
    output:
        csv=report("results/tables/dictionary_gates.csv", caption="../report/dictionaries.rst",
                   category="Dictionaries"),
        markdown="results/tables/dictionary_gates.md",
    params:
        settings=without(config.get("dictionary_gates"), "architectures"),  # it picks the inputs
    log:
        "results/logs/tables/dictionary_gates.log",
    benchmark:
        "results/benchmarks/tables/dictionary_gates.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/dictionary_gates.py"


rule bridge_figure:
    """Paper B figure 12: share of the bridge mass B_Σ in bimodal, image–image, text–text and
    image–text pairs against the unimodality threshold τ."""
    input:
        bridge="results/metrics/{encoder}/{method}_bridge.csv",
    output:
        figure=report(
            "results/figures/bridge_{encoder}.{method}.png",
            caption="../report/bridge.rst",
            category="Modality",
        ),
    params:
        tau=config.get("analysis", {}).get("tau"),
    log:
        "results/logs/bridge_figure/{encoder}/{method}.log",
    benchmark:
        "results/benchmarks/bridge_figure/{encoder}/{method}.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/bridge_figure.py"
