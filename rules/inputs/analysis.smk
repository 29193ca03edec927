# Analysis and paper B's tables: the config blocks, targets and input functions of
# rules/analysis.smk.

ANALYSIS_DATASET = config.get("analysis", {}).get("dataset", "")
DATASET_KINDS = {name: block["kind"] for name, block in config["datasets"].items()}
MDS_PANELS = config.get("analysis", {}).get("mds_panels", {})


def datasets_of_kind(kind):
    """A wildcard pattern matching exactly the configured datasets of ``kind`` (none: nothing)."""
    names = [name for name, k in DATASET_KINDS.items() if k == kind]
    return "|".join(names) if names else "(?!)"
# Dictionaries with atoms (every architecture but NCL) get the energy / atom figures.
ATOM_TARGETS = [
    (e, m) for e, m in DICTIONARY_TARGETS if config["dictionaries"][m]["architecture"] != "ncl"
]


def analysis_params(*keys):
    """The named ``analysis`` settings (a feature or metric job's; not the figure panels, not
    the encoding batch size, a performance knob)."""
    return pick(config.get("analysis"), *keys)


def modality_figures():
    """Paper A figure 1 and paper B figures 2, 16–17 of every dictionary with atoms."""
    figures = ["results/figures/mds_groups.png"] if MDS_PANELS else []
    figures += [f"results/figures/bridge_{e}.{m}.png" for e, m in TABLE1_MODELS]
    for e, m in ATOM_TARGETS:
        figures += [f"results/figures/energy_{e}.{m}.png", f"results/figures/unimodal_{e}.{m}.png"]
    return figures


PAPER_B = config.get("paper_b", {})
# (encoder, method) of table 1's SAE and SAE-A rows, encoder by encoder
TABLE1_MODELS = [
    (encoder, table1_dictionary(PAPER_B["table1"], kind, encoder))
    for encoder in PAPER_B.get("table1", {}).get("encoders", [])
    for kind in ("sae", "sae_a")
]


def table_models(table):
    """(encoder, method) of each column of paper B table 3 or 4, in column order."""
    block = PAPER_B.get(table)
    if not block:
        raise WorkflowError(f"paper B {table} is not configured; add 'paper_b.{table}' to config")
    return [(block["encoder"], method) for method in block["columns"].values()]


def replica_models(wildcards):
    """Models of the same dictionary under the extra seeds, for dictionaries in tables 3–4."""
    in_tables = {
        (PAPER_B[t]["encoder"], m)
        for t in ("table3", "table4")
        if PAPER_B.get(t)
        for m in PAPER_B[t]["columns"].values()
    }
    if (wildcards.encoder, wildcards.method) not in in_tables:
        return []
    return [
        f"results/dictionaries/{wildcards.encoder}/{wildcards.method}/seed{seed}/model.pt"
        for seed in PAPER_B.get("stability_seeds", [])
    ]


def table_dictionaries():
    """(encoder, method) of every dictionary a paper B table (1, 3, 4) reads."""
    found = set(TABLE1_MODELS)
    for table in ("table3", "table4"):
        if PAPER_B.get(table):
            found.update(table_models(table))
    return found


def metric_intervals(wildcards):
    """Whether the metrics job of a dictionary bootstraps the metrics' intervals, only for those a
    paper B table reads (the verdicts compare them); the others' rows carry no interval."""
    return (wildcards.encoder, wildcards.method) in table_dictionaries()


def paper_b_tables():
    """Paper B tables the default run writes (table 4 only with ``paper_b.table4.in_all``)."""
    tables = []
    if PAPER_B.get("table1"):
        tables.append("results/tables/paperB_table1.csv")
    if PAPER_B.get("table3"):
        tables.append("results/tables/paperB_table3.csv")
    if PAPER_B.get("table4", {}).get("in_all"):
        tables.append("results/tables/paperB_table4.csv")
    if PAPER_B.get("table5"):
        tables.append("results/tables/paperB_table5.csv")
    return tables


def feature_files(suffix=""):
    """results/features/{encoder}/{method}/{dataset}{suffix}.parquet of every dictionary target."""
    if not DICTIONARY_TARGETS:
        return []
    dataset = config["analysis"]["dataset"]
    return [f"results/features/{e}/{m}/{dataset}{suffix}.parquet" for e, m in DICTIONARY_TARGETS]


def concept_probe_files(wildcards):
    """Each dictionary target encoder's per-concept linear-detector AUCs, the recovery table's
    reference, where the encoder table probes the analysis dataset's split (else none)."""
    evaluation = config.get("evaluation", {})
    same_rows = (evaluation.get("dataset") == ANALYSIS_DATASET
                 and evaluation.get("split") == config["analysis"].get("split"))
    if not (same_rows and config.get("encoder_gates")):
        return []
    encoders = sorted({encoder for encoder, _ in DICTIONARY_TARGETS})
    return [f"results/tables/encoder_concept_probes/{e}.csv" for e in encoders]

