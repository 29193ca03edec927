rule train_toy_encoder:
    """Train a toy CLIP (open_clip towers, ClipLoss) on a toyworld train split."""
    input:
        pairs=lambda w: f"results/data/{encoder_config(w)['train_dataset']}/pairs.parquet",
    output:
        checkpoint="results/encoders/{encoder}/model.pt",
        log_table="results/encoders/{encoder}/train_log.parquet",
    params:
        architecture=lambda w: encoder_config(w)["architecture"],
        training=lambda w: encoder_config(w)["training"],
        seed=config["seed"],
    log:
        "results/logs/encoders/{encoder}.log",
    benchmark:
        "results/benchmarks/encoders/{encoder}.tsv"
    threads: TOY_ENCODER_THREADS
    # the critical path: every later rule waits on the encoders, so they take the cores first
    priority: 10
    resources:
        mem_mb=6000,
        runtime=60,
        gpu=0,
    conda:
        "../envs/encoders.yaml"
    script:
        "../workflow/scripts/train_toy_encoder.py"
