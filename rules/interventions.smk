# Interventions through a dictionary's bimodal mask (paper B §5, appendices H, I, L): closing the
# modality gap (tables 9–12, figures 4, 10, 24, 25) and semantic vector arithmetic on edit
# triplets (tables 2, 7, 8, figures 5, 6, 23). Science lives in crossmodal.interventions.


rule embed_edit_captions:
    """Relative captions of a dataset's edit triplets, embedded and averaged per edit."""
    input:
        unpack(encoder_inputs),
        edits="results/data/{dataset}/edits.parquet",
    output:
        embeddings="results/embeddings/{encoder}/{dataset}.edits.parquet",
    params:
        encoder=encoder_load_spec,
        seed=config["seed"],
    log:
        "results/logs/embeddings/{encoder}/{dataset}.edits.log",
    benchmark:
        "results/benchmarks/embeddings/{encoder}/{dataset}.edits.tsv"
    threads: light_encoder_job_threads
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        "../envs/encoders.yaml"
    script:
        "../workflow/scripts/embed_edit_captions.py"


rule embed_class_prompts:
    """Zero-shot class vectors (mean of each class's prompt embeddings, Radford et al.): a
    toyworld family's prompt ensembles, or an imagefolder's classes × the 80 CLIP templates."""
    input:
        unpack(class_prompt_inputs),
    output:
        embeddings="results/embeddings/{encoder}/{dataset}.prompts.parquet",
    params:
        encoder=encoder_load_spec,
        family=INTERVENTIONS.get("zero_shot_family"),
        seed=config["seed"],
    log:
        "results/logs/embeddings/{encoder}/{dataset}.prompts.log",
    benchmark:
        "results/benchmarks/embeddings/{encoder}/{dataset}.prompts.tsv"
    threads: light_encoder_job_threads
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        "../envs/encoders.yaml"
    script:
        "../workflow/scripts/embed_class_prompts.py"


rule gap_removal:
    """Every gap-removal method on one split of one dataset, through the analysis dataset's
    dictionary: DiM, W, sep, RMG, OOD, recall@1 (and zero-shot / linear-probe accuracy on table
    11's split) with their bootstrap half-widths over the pairs (column "value ±"), plus the
    k-th-NN distances for figure 25."""
    input:
        unpack(gap_removal_inputs),
    output:
        measures="results/interventions/{encoder}/{dataset}/gap_{split}.csv",
        distances="results/interventions/{encoder}/{dataset}/gap_{split}_distances.parquet",
    params:
        settings=lambda w: gap_removal_settings(w.dataset, w.split),
        seed=config["seed"],
        uncertainty=UNCERTAINTY,
    log:
        "results/logs/interventions/{encoder}/{dataset}/gap_{split}.log",
    benchmark:
        "results/benchmarks/interventions/{encoder}/{dataset}/gap_{split}.tsv"
    threads: light_encoder_job_threads
    resources:
        mem_mb=6000,
        runtime=30,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/gap_removal.py"


rule gap_figures:
    """Figure 25 (k-th-NN distances per method, table 9's split) and figure 10 (PCA of the
    embeddings with the modality means) for one encoder."""
    input:
        measures=lambda w: gap_file(w.encoder, "table9"),
        distances=lambda w: gap_file(w.encoder, "table9", "_distances.parquet"),
        embeddings=lambda w: (
            f"results/embeddings/{w.encoder}/{INTERVENTION_EVALUATIONS['table9'][0]}.parquet"
        ),
    output:
        knn=report(
            "results/figures/gap_knn_{encoder}.png",
            caption="../report/gap_knn.rst",
            category="Interventions",
        ),
        pca=report(
            "results/figures/embedding_pca_{encoder}.png",
            caption="../report/embedding_pca.rst",
            category="Interventions",
        ),
    params:
        split=INTERVENTION_EVALUATIONS.get("table9", (None, None))[1],
        seed=config["seed"],
    log:
        "results/logs/interventions/{encoder}/gap_figures.log",
    benchmark:
        "results/benchmarks/interventions/{encoder}/figures.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/gap_figures.py"


rule gap_illustration:
    """Figure 24: the gap-removal methods on synthetic 3-D points with a known bimodal atom."""
    output:
        figure=report(
            "results/figures/gap_illustration.png",
            caption="../report/gap_illustration.rst",
            category="Interventions",
        ),
    params:
        seed=config["seed"],
    log:
        "results/logs/interventions/gap_illustration.log",
    benchmark:
        "results/benchmarks/interventions/gap_illustration.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/gap_illustration.py"


rule vector_arithmetic:
    """Queries Q_src, Q_Δ, Q, Q_SAE and the authors' variant on the edit triplets: OOD score and
    (R@10 + R@50)/2 with their bootstrap half-widths over the triplets ("<measure> ±"), figures
    6 / 23 (distance histograms) and 5 (a worked example)."""
    input:
        unpack(arithmetic_inputs),
    output:
        measures="results/interventions/{encoder}/arithmetic.csv",
        distances="results/interventions/{encoder}/arithmetic_distances.parquet",
        histograms=report(
            "results/figures/arithmetic_ood_{encoder}.png",
            caption="../report/arithmetic_ood.rst",
            category="Interventions",
        ),
        example=report(
            "results/figures/arithmetic_example_{encoder}.png",
            caption="../report/arithmetic_example.rst",
            category="Interventions",
        ),
    params:
        settings=pick(INTERVENTIONS, "ood_k", "recall_batch_size"),
        seed=config["seed"],
        uncertainty=UNCERTAINTY,
    log:
        "results/logs/interventions/{encoder}/arithmetic.log",
    benchmark:
        "results/benchmarks/interventions/{encoder}/arithmetic.tsv"
    threads: light_encoder_job_threads
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/vector_arithmetic.py"


rule paper_b_intervention_tables:
    """Paper B tables 2, 7, 8 (arithmetic) and 9–12 (gap removal), the paper's CLIP beside ours;
    each of our columns C is followed by its half-width "C ±" (from the inputs' intervals)."""
    input:
        # split by split (table 9, 10, 11 order), encoder by encoder
        gap=[
            gap_file(e, table)
            for table in INTERVENTION_EVALUATIONS
            for e in INTERVENTION_ENCODERS
        ],
        arithmetic=[f"results/interventions/{e}/arithmetic.csv" for e in INTERVENTION_ENCODERS],
    output:
        **{
            f"{name}_csv": report(
                f"results/tables/paperB_{name}.csv",
                caption="../report/paperB_interventions.rst",
                category="Interventions",
            )
            for name in INTERVENTION_TABLES
        },
        **{f"{name}_md": f"results/tables/paperB_{name}.md" for name in INTERVENTION_TABLES},
    params:
        encoders=INTERVENTION_ENCODERS,
        splits={table: "/".join(where) for table, where in INTERVENTION_EVALUATIONS.items()},
    log:
        "results/logs/tables/paper_b_interventions.log",
    benchmark:
        "results/benchmarks/tables/paper_b_interventions.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/paper_b_intervention_tables.py"
