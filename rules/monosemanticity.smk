# Paper A §3 (monosemanticity: EmbSim, WinRate, Visual / Textual Mono, tables 4–5, figures 2, 3,
# 13), the ICLR version's modality-classification check (its table 1) and the feature galleries
# (paper A figures 4–6, paper B figures 18–22). Science lives in crossmodal.monosemanticity.


rule embed_h:
    """The split's captions (MiniLM) or images (the toyworld image expert or a transformers
    image model) embedded by h."""
    input:
        unpack(embed_h_inputs),
    output:
        embeddings="results/monosemanticity/h/{dataset}.{modality}.parquet",
    params:
        embedder=lambda w: MONO[f"{w.modality}_embedder"],
        split=MONO.get("split"),
        seed=config["seed"],
    wildcard_constraints:
        modality="image|text",
    log:
        "results/logs/monosemanticity/h_{dataset}.{modality}.log",
    benchmark:
        "results/benchmarks/monosemanticity/h_{dataset}.{modality}.tsv"
    threads: dataset_job_threads
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../envs/encoders.yaml"
    script:
        "../workflow/scripts/embed_h.py"


rule monosemanticity_scores:
    """EmbSim, WinRate and Mono of every latent of one model, on images and on texts."""
    input:
        unpack(monosemanticity_inputs),
    output:
        scores="results/monosemanticity/{encoder}/{method}/scores.parquet",
    params:
        settings=pick(MONO, *MONO_SCORE_KEYS),
        seed=config["seed"],
    log:
        "results/logs/monosemanticity/{encoder}/{method}/scores.log",
    benchmark:
        "results/benchmarks/monosemanticity/{encoder}/{method}/scores.tsv"
    threads: light_encoder_job_threads
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/monosemanticity_scores.py"


rule monosemanticity_over_training:
    """Average EmbSim and WinRate of every checkpoint of one dictionary (paper A figure 13)."""
    input:
        unpack(monosemanticity_inputs),
        checkpoints="results/dictionaries/{encoder}/{method}/checkpoints",
    output:
        curve="results/monosemanticity/{encoder}/{method}/training.csv",
    params:
        settings=pick(MONO, *MONO_SCORE_KEYS),
        seed=config["seed"],
    log:
        "results/logs/monosemanticity/{encoder}/{method}/training.log",
    benchmark:
        "results/benchmarks/monosemanticity/{encoder}/{method}/training.tsv"
    threads: light_encoder_job_threads
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/monosemanticity_over_training.py"


rule paper_a_monosemanticity:
    """Paper A tables 4 and 5 and figures 2, 3 and 13."""
    input:
        scores=[f"results/monosemanticity/{target}/scores.parquet" for target in MONO_MODELS.values()],
        curves=[f"results/monosemanticity/{target}/training.csv" for target in MONO_CURVES],
    output:
        table4=report(
            "results/tables/paperA_table4.csv",
            caption="../report/paperA_table4.rst",
            category="Monosemanticity",
        ),
        table4_md="results/tables/paperA_table4.md",
        table5=report(
            "results/tables/paperA_table5.csv",
            caption="../report/paperA_table5.rst",
            category="Monosemanticity",
        ),
        table5_md="results/tables/paperA_table5.md",
        models=report(
            "results/figures/mono_models.png",
            caption="../report/mono_models.rst",
            category="Monosemanticity",
        ),
        modality=report(
            "results/figures/mono_modality.png",
            caption="../report/mono_modality.rst",
            category="Monosemanticity",
        ),
        training=report(
            "results/figures/mono_training.png",
            caption="../report/mono_training.rst",
            category="Monosemanticity",
        ),
    params:
        labels=list(MONO_MODELS),
        m=MONO.get("m"),
        uncertainty=UNCERTAINTY,
        seed=config["seed"],
    log:
        "results/logs/tables/paper_a_monosemanticity.log",
    benchmark:
        "results/benchmarks/tables/paper_a_monosemanticity.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/paper_a_monosemanticity.py"


rule modality_classification:
    """ICLR version table 1: zero ImgD / TextD / CrossD (or as many random latents) and classify
    images and texts by a label with logistic regression."""
    input:
        unpack(classification_inputs),
    output:
        table=report(
            "results/tables/paperA_iclr_table1.csv",
            caption="../report/paperA_iclr_table1.rst",
            category="Monosemanticity",
        ),
        markdown="results/tables/paperA_iclr_table1.md",
    params:
        settings=pick(MONO.get("classification"), "split", "label", "pairs", "seeds"),
        uncertainty=UNCERTAINTY,
        seed=config["seed"],
    log:
        "results/logs/tables/paperA_iclr_table1.log",
    benchmark:
        "results/benchmarks/tables/paperA_iclr_table1.tsv"
    threads: model_job_threads(MONO.get("classification", {}).get("model", ""))
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/modality_classification.py"


rule feature_gallery:
    """Top images and captions of latents sampled from each group: one browsable page."""
    input:
        model="results/dictionaries/{encoder}/{method}/model.pt",
        # lambdas: read only when a gallery is planned (no monosemanticity block: no dataset)
        features=lambda w: f"results/features/{w.encoder}/{w.method}/{MONO_DATASET}.parquet",
        embeddings=lambda w: f"results/embeddings/{w.encoder}/{MONO_DATASET}.parquet",
        pairs=lambda w: f"results/data/{MONO_DATASET}/pairs.parquet",
    output:
        page="results/galleries/{encoder}.{method}/index.html",
    params:
        settings=pick(MONO.get("galleries"), "per_gallery", "images", "texts"),
        split=MONO.get("split"),
        seed=config["seed"],
    log:
        "results/logs/galleries/{encoder}.{method}.log",
    benchmark:
        "results/benchmarks/galleries/{encoder}.{method}.tsv"
    threads: light_encoder_job_threads
    resources:
        mem_mb=3000,
        runtime=10,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/feature_gallery.py"


rule mono_groundtruth:
    """Toyworld only: paper A's monosemanticity ranking of models against the per-latent,
    per-modality ground truth of their feature tables (recovery shown for reference)."""
    input:
        table4="results/tables/paperA_table4.csv",
        recovery="results/tables/groundtruth_recovery.csv",
        features=[f"results/features/{target}/{MONO_DATASET}.parquet"
                  for target in MONO_MODELS.values()],
        scores=[f"results/monosemanticity/{target}/scores.parquet"
                for target in MONO_MODELS.values()],
    output:
        table=report("results/tables/paperA_mono_groundtruth.csv",
                     caption="../report/paperA_mono_groundtruth.rst", category="Monosemanticity"),
        markdown="results/tables/paperA_mono_groundtruth.md",
    params:
        targets=MONO_MODELS,
        uncertainty=UNCERTAINTY,
        seed=config["seed"],
    log:
        "results/logs/tables/paperA_mono_groundtruth.log",
    benchmark:
        "results/benchmarks/tables/paperA_mono_groundtruth.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/mono_groundtruth.py"
