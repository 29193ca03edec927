rule encoder_quality:
    """Zero-shot accuracy per bimodal family, recall@k, modality gap and paper B figure 11;
    on toyworld, a linear probe of every concept family from each modality, the gates and each
    concept's linear-detector AUC."""
    input:
        unpack(encoder_inputs),
        embeddings=f"results/embeddings/{{encoder}}/{config['evaluation']['dataset']}.parquet",
    output:
        table="results/tables/encoders/{encoder}.csv",
        probes="results/tables/encoder_probes/{encoder}.csv",
        concept_probes="results/tables/encoder_concept_probes/{encoder}.csv",
        figure=report(
            "results/figures/similarity_{encoder}.png",
            caption="../report/similarity.rst",
            category="Encoders",
        ),
    params:
        encoder=encoder_load_spec,
        evaluation=pick(config["evaluation"], "split", "recall_batch_size", "histogram_pairs"),
        gates=config.get("encoder_gates", {}),
        # the kind and the rates at which captions name or images show a family (probe ceilings)
        dataset=pick(config["datasets"][config["evaluation"]["dataset"]],
                     "kind", "mention_rates", "depiction_rates"),
        seed=config["seed"],
        uncertainty=UNCERTAINTY,
    log:
        "results/logs/encoder_quality/{encoder}.log",
    benchmark:
        "results/benchmarks/encoder_quality/{encoder}.tsv"
    threads: light_encoder_job_threads
    resources:
        mem_mb=3000,
        runtime=20,
    conda:
        "../envs/encoders.yaml"
    script:
        "../workflow/scripts/encoder_quality.py"


rule encoder_table:
    """One row per encoder: results/tables/encoders.csv and .md; the per-family probes of every
    encoder: results/tables/encoder_probes.csv and .md."""
    input:
        rows=expand("results/tables/encoders/{encoder}.csv", encoder=ENCODERS),
        probes=expand("results/tables/encoder_probes/{encoder}.csv", encoder=ENCODERS),
    output:
        csv=report("results/tables/encoders.csv", caption="../report/encoders.rst", category="Encoders"),
        markdown="results/tables/encoders.md",
        probes_csv=report("results/tables/encoder_probes.csv", caption="../report/encoder_probes.rst",
                          category="Encoders"),
        probes_markdown="results/tables/encoder_probes.md",
    log:
        "results/logs/encoder_table.log",
    benchmark:
        "results/benchmarks/encoder_table.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/concat_tables.py"


from crossmodal.report.metadata import upstream_benchmarks

report_roots = lambda: [
    *(t for t in all_targets() if t != "results/report/index.html"),
    *report_tables(),
    *report_figures(),
]


rule report:
    """results/report/index.html from every table and figure the run produced."""
    input:
        tables=report_tables(),
        figures=report_figures(),
        # every benchmark file of the run but the report's own (wall time per rule)
        benchmarks=lambda wildcards: list(upstream_benchmarks(workflow.rules, report_roots())),
        galleries=[t for t in monosemanticity_targets() if t.endswith(".html")],
    output:
        html="results/report/index.html",
    params:
        config=science_config(),  # the report shows the config (less the performance knobs)
        benchmark_rules=lambda wildcards: upstream_benchmarks(workflow.rules, report_roots()),
        captions=os.path.join(workflow.basedir, "report"),  # the figures' captions (report/*.rst)
    log:
        "results/logs/report.log",
    benchmark:
        "results/benchmarks/report.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/core.yaml"
    script:
        "../workflow/scripts/build_report.py"


rule plan:
    """What the config will embed and train: pairs per dataset, embedding widths and gigabytes,
    the dictionaries with their K and steps, and with `--config unit_costs=<csv>` (measured by
    benchmarks/unit_costs.py) the hours they need. No outputs, so it runs whenever it is named:
    `snakemake --cores 1 plan` (add `--config preflight=false` before the data are in place)."""
    log:
        "results/logs/plan.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../envs/encoders.yaml"  # widths from open_clip's and transformers' configs
    script:
        "../workflow/scripts/plan_summary.py"
