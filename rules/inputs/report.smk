# Report: every table and figure it shows, and the default target list (`all`).

def report_tables():
    """Every table the report shows."""
    tables = ["results/tables/encoders.csv", "results/tables/encoder_probes.csv"]
    if DICTIONARY_TARGETS:
        tables.append("results/tables/dictionaries.csv")
    if DICTIONARY_TARGETS and DATASET_KINDS.get(ANALYSIS_DATASET) == "toyworld":
        tables.append("results/tables/groundtruth_recovery.csv")
    if GATED_DICTIONARIES:
        tables.append("results/tables/dictionary_gates.csv")
    tables += paper_b_tables()
    if INTERVENTIONS:
        tables += [f"results/tables/paperB_{name}.csv" for name in INTERVENTION_TABLES]
    tables += [t for t in monosemanticity_targets() if t.endswith(".csv")]
    return tables + [t for t in case_study_targets() if t.endswith(".csv")]


def report_figures():
    """Every figure the report shows."""
    figures = expand("results/figures/similarity_{encoder}.png", encoder=ENCODERS)
    if DICTIONARY_TARGETS:
        figures.append("results/figures/active_latents.png")
    figures += modality_figures()
    for e, m in BETA_SWEEPS:
        figures += [
            f"results/figures/beta_sweep_r2_{e}.{m}.png",
            f"results/figures/beta_sweep_energy_{e}.{m}.png",
        ]
    figures += [t for t in intervention_targets() if t.endswith(".png")]
    figures += [t for t in monosemanticity_targets() if t.endswith(".png")]
    return figures + [t for t in case_study_targets() if t.endswith(".png")]


def all_targets():
    return [
        *expand("results/embeddings/{encoder}/{dataset}.parquet", encoder=ENCODERS, dataset=DATASETS),
        "results/tables/encoders.csv",
        *[f"results/dictionaries/{e}/{m}/model.pt" for e, m in DICTIONARY_TARGETS],
        *feature_files(),
        *modality_figures(),
        *intervention_targets(),
        *monosemanticity_targets(),
        *case_study_targets(),
        "results/report/index.html",
    ]
