rule train_dictionary:
    """Train one dictionary (SAE, SAE-A, Multimodal TopK SAE, NCL …) on an encoder's embeddings."""
    input:
        unpack(dictionary_training_inputs),
    output:
        model="results/dictionaries/{encoder}/{method}/model.pt",
        log_table="results/dictionaries/{encoder}/{method}/train_log.parquet",
        checkpoints=directory("results/dictionaries/{encoder}/{method}/checkpoints"),
    params:
        dictionary=dictionary_spec,
        training=dictionary_training(),
        seed=config["seed"],
        data_seed=config["seed"],
    log:
        "results/logs/dictionaries/{encoder}/{method}.log",
    benchmark:
        "results/benchmarks/dictionaries/{encoder}/{method}.tsv"
    threads: encoder_job_threads
    resources:
        mem_mb=6000,
        runtime=120,
        gpu=1,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/train_dictionary.py"


rule beta_sweep:
    """Paper B §4.1 / appendix B: train SAE-A over a log grid of β and keep the largest β whose R²
    is within the tolerance of β = 0."""
    input:
        embeddings=f"results/embeddings/{{encoder}}/{config['dictionary_training']['dataset']}.parquet"
        if "dictionary_training" in config
        else [],
    output:
        table="results/dictionaries/{encoder}/{method}/beta_sweep.csv",
        r2_figure=report(
            "results/figures/beta_sweep_r2_{encoder}.{method}.png",
            caption="../report/beta_sweep.rst",
            category="Dictionaries",
        ),
        energy_figure=report(
            "results/figures/beta_sweep_energy_{encoder}.{method}.png",
            caption="../report/beta_sweep.rst",
            category="Dictionaries",
        ),
    params:
        dictionary=dictionary_spec,
        training=dictionary_training(),
        sweep=config.get("beta_sweep"),
        seed=config["seed"],
    log:
        "results/logs/beta_sweep/{encoder}/{method}.log",
    benchmark:
        "results/benchmarks/beta_sweep/{encoder}/{method}.tsv"
    threads: encoder_job_threads
    resources:
        mem_mb=6000,
        runtime=240,
        gpu=1,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/beta_sweep.py"


rule dictionary_table:
    """results/tables/dictionaries.csv: size, β, training time and final loss terms of each
    dictionary; the active-latent curves of paper A figures 11–12."""
    input:
        models=[f"results/dictionaries/{e}/{m}/model.pt" for e, m in DICTIONARY_TARGETS],
        logs=[f"results/dictionaries/{e}/{m}/train_log.parquet" for e, m in DICTIONARY_TARGETS],
        benchmarks=[f"results/benchmarks/dictionaries/{e}/{m}.tsv" for e, m in DICTIONARY_TARGETS],
    output:
        csv=report(
            "results/tables/dictionaries.csv",
            caption="../report/dictionaries.rst",
            category="Dictionaries",
        ),
        markdown="results/tables/dictionaries.md",
        figure=report(
            "results/figures/active_latents.png",
            caption="../report/dictionaries.rst",
            category="Dictionaries",
        ),
    log:
        "results/logs/dictionary_table.log",
    benchmark:
        "results/benchmarks/dictionary_table.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/dictionary_table.py"


rule train_dictionary_replica:
    """The same dictionary trained with another seed (paper B's stability metric)."""
    input:
        unpack(dictionary_training_inputs),
    output:
        model="results/dictionaries/{encoder}/{method}/seed{seed}/model.pt",
        log_table="results/dictionaries/{encoder}/{method}/seed{seed}/train_log.parquet",
        checkpoints=directory("results/dictionaries/{encoder}/{method}/seed{seed}/checkpoints"),
    wildcard_constraints:
        seed=r"\d+",
    params:
        dictionary=dictionary_spec,
        training=dictionary_training(),
        seed=lambda wildcards: int(wildcards.seed),
        data_seed=config["seed"],  # the same training pairs as the first seed's
    log:
        "results/logs/dictionaries/{encoder}/{method}/seed{seed}.log",
    benchmark:
        "results/benchmarks/dictionaries/{encoder}/{method}/seed{seed}.tsv"
    threads: encoder_job_threads
    resources:
        mem_mb=6000,
        runtime=120,
        gpu=1,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/train_dictionary.py"
