# Config loading and validation, the derived names every stage uses, the thread helpers and the
# params helpers. No science here; each later stage keeps its own config block, input functions
# and targets in rules/inputs/<stage>.smk.
import os
import sys

from snakemake.utils import validate

# The Snakefile validates with the checkout's library even before `pip install -e .`; scripts
# import the installed package (README set-up).
sys.path.insert(0, os.path.abspath(os.path.join(workflow.basedir, "workflow")))

from crossmodal.config import ConfigError, canonical, check_config, table1_dictionary
from crossmodal.config_layers import load_layered, resolve_paths
from crossmodal.preflight import preflight_problems

# `--configfile a.yaml b.yaml` extends config/config.yaml layer by layer, as Snakemake does,
# except that a file with `replace: all` is complete on its own and `replace: [sections]`
# drops those sections of what lies under it (crossmodal/config_layers.py); then every
# "{paths.<name>}" is resolved, so a `paths:` overlay moves every path built on it.
try:
    settings = workflow.config_settings
    if settings.configfiles:
        default = (None if settings.replace_workflow_config
                   else workflow.source_path("../config/config.yaml"))
        layered = load_layered(settings.configfiles, default, dict(settings.config))
    else:
        layered = resolve_paths(config)
    config.clear()
    config.update(layered)
    check_config(config, workflow.source_path("../config/schema.yaml"))
except ConfigError as error:
    raise WorkflowError(str(error)) from None
validate(config, workflow.source_path("../config/schema.yaml"))
config.update(canonical(config))

# A real run's data and weights are checked now, so `snakemake -n` reports what is missing
# (one line each) instead of a job failing hours in; `preflight: false` skips the checks.
if str(config.get("preflight", True)).lower() != "false":
    missing = preflight_problems(config, os.getcwd())
    if missing:
        raise WorkflowError("this config's data or weights are not on this machine "
                            "(`--config preflight=false` plans anyway):\n" + "\n".join(missing))

DATASETS = sorted(config["datasets"])
ENCODERS = sorted(config["encoders"])
TOY_ENCODERS = sorted(n for n, e in config["encoders"].items() if e["backend"] == "toy")
DICTIONARIES = sorted(config.get("dictionaries", {}))
# the 95 % intervals behind the verdicts: bootstrap resamples and level (every table rule)
UNCERTAINTY = {"resamples": 200, "level": 0.95, **config.get("uncertainty", {})}


# --- params: exactly what a rule's script reads ----------------------------------------------
# Snakemake reruns a job when its params change, so each rule's `params` hold exactly the config
# values its script (and the library code the script hands them to) reads: a whole block only
# where every key of it is read. Keys that only choose input files (an encoder or model name, a
# dataset) are not params: the inputs carry them.
#
# Performance and logging knobs change neither a result nor a metric's definition, so they are
# never params (changing one reruns nothing); scripts read them from `snakemake.config`:
#   extract.batch_size                          extract_embeddings, embed_edit_captions,
#                                               embed_class_prompts (encoding batch)
#   analysis.batch_size                         latent_features, dictionary_metrics (encoding)
#   dictionary_training.checkpoint_every,       train_dictionary(_replica): how often an
#   dictionaries.<method>.checkpoint_every      intermediate checkpoint is written (the final
#                                               model does not depend on it)
#   case_studies.attribute.labeller.batch_size  attribute_labels (classifier inference batch)
# Batch sizes that define a metric (recall@k within batches: evaluation.recall_batch_size,
# interventions.recall_batch_size) or a training run are science and stay params.
# tests/test_rerun_scope.py perturbs every leaf of config/smoke.yaml and checks this list.
PERFORMANCE_KNOBS = [
    ("extract", "batch_size"),
    ("analysis", "batch_size"),
    ("dictionary_training", "checkpoint_every"),
    ("dictionaries", "*", "checkpoint_every"),
    ("case_studies", "attribute", "labeller", "batch_size"),
]


def pick(block, *keys):
    """The named keys of a config block that are set (a missing key stays missing, so the
    script's default applies); {} for a missing block."""
    return {key: block[key] for key in keys if key in (block or {})}


def without(block, *keys):
    """A config block without the named keys."""
    return {key: value for key, value in (block or {}).items() if key not in keys}


def science_config():
    """The whole config less the performance knobs (the report shows it)."""

    def strip(node, path):
        if not isinstance(node, dict):
            return node
        return {
            key: strip(value, [*path, key])
            for key, value in node.items()
            if not any(len(knob) == len(path) + 1
                       and all(k in ("*", p) for k, p in zip(knob, [*path, key]))
                       for knob in PERFORMANCE_KNOBS)
        }

    return strip(config, [])


# what crossmodal.encoders.load_encoder reads of an `encoders.<name>` block (a toy encoder is
# its checkpoint, an input)
ENCODER_LOAD_KEYS = ("backend", "name", "pretrained", "cache_dir", "precision", "model",
                     "model_config")


def encoder_spec(name):
    """The keys of encoder ``name``'s block that loading it reads."""
    return pick(config["encoders"][name], *ENCODER_LOAD_KEYS)


def encoder_load_spec(wildcards):
    """:func:`encoder_spec` of the job's ``{encoder}`` (one line if unknown)."""
    encoder_config(wildcards)
    return encoder_spec(wildcards.encoder)


DICTIONARY_TARGETS = [
    (encoder, method)
    for encoder, methods in sorted(config.get("dictionary_targets", {}).items())
    for method in methods
]


def machine_cores():
    """CPUs this process may run on (the affinity mask, as a container or taskset limits it)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def usable_cores():
    """The cores a job may use: ``--cores N``, capped at the machine's CPUs when jobs run on
    this machine (``--cores 8`` on 2 CPUs gives 2, never 8 threads fighting for 2 cores); a
    cluster's jobs run elsewhere and keep N. Commands that run no job (``--unlock``, ``--dag``,
    ``--rulegraph``, ``--summary``, ``--list-changes``, ``--report``) need no ``--cores``."""
    try:
        cores = workflow.cores
    except WorkflowError:
        return machine_cores()
    return min(cores, machine_cores()) if workflow.local_exec else cores


CORES = usable_cores()
# Heavy rules claim every usable core; scripts cap torch, numpy and BLAS threads at them too.
HEAVY_THREADS = CORES
# The toy encoders train side by side, sharing the cores: on 2 cores two 1-thread trainings
# finish ~1.5x sooner than two 2-thread ones in turn (small convolutions scale poorly).
TOY_ENCODER_THREADS = max(1, CORES // max(1, len(TOY_ENCODERS)))


# Light rules (figures, features, per-split measures) take 2 threads on a real encoder.
LIGHT_THREADS = min(2, CORES)


def threads_for_encoder(name, real_threads=HEAVY_THREADS):
    """Threads of a job on one encoder's embeddings or model: 1 for a toy encoder,
    ``real_threads`` for a real one. Toy jobs (d = 256, ≤ 44 k pairs, 64-px convolutions) scale
    poorly: their CPU/wall at 2 threads was 0.5–1.7 in a clean 2-core run, so two of them side
    by side finish sooner than the same two one after the other with 2 threads each."""
    return 1 if name in TOY_ENCODERS else real_threads


def encoder_job_threads(wildcards):
    """A heavy rule's threads for the job's ``{encoder}`` wildcard."""
    return threads_for_encoder(wildcards.encoder)


def light_encoder_job_threads(wildcards):
    """A light rule's threads for the job's ``{encoder}`` wildcard."""
    return threads_for_encoder(wildcards.encoder, LIGHT_THREADS)


def model_job_threads(model):
    """A light rule's threads for an "encoder/dictionary" model target."""
    return threads_for_encoder(model.split("/")[0], LIGHT_THREADS)


def dataset_job_threads(wildcards):
    """A light rule's threads on one dataset: 1 on the embedded toyworld, else LIGHT_THREADS."""
    return 1 if config["datasets"][wildcards.dataset]["kind"] == "toyworld" else LIGHT_THREADS


# Names never contain dots, so "{encoder}.{method}" in a file name is unambiguous.
wildcard_constraints:
    dataset="[A-Za-z][A-Za-z0-9_-]*",
    encoder="[A-Za-z][A-Za-z0-9_-]*",
    method="[A-Za-z][A-Za-z0-9_-]*",
    split="[A-Za-z][A-Za-z0-9_-]*",


def dataset_config(wildcards):
    """The config block of the dataset a target names, or one line saying which exist."""
    name = wildcards.dataset
    if name not in config["datasets"]:
        raise WorkflowError(
            f"unknown dataset '{name}' in target; config 'datasets' has {DATASETS}"
        )
    return config["datasets"][name]


def dataset_pairs(wildcards):
    """results/data/{dataset}/pairs.parquet of a configured dataset (one line if unknown)."""
    dataset_config(wildcards)
    return f"results/data/{wildcards.dataset}/pairs.parquet"


def encoder_config(wildcards):
    """The config block of the encoder a target names, or one line saying which exist."""
    name = wildcards.encoder
    if name not in config["encoders"]:
        raise WorkflowError(
            f"unknown encoder '{name}' in target; config 'encoders' has {ENCODERS}"
        )
    return config["encoders"][name]


def encoder_inputs(wildcards):
    """What embedding an encoder needs: the trained checkpoint for toy encoders, nothing else."""
    if encoder_config(wildcards)["backend"] == "toy":
        return {"checkpoint": f"results/encoders/{wildcards.encoder}/model.pt"}
    return {}


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


BETA_SWEEPS = [
    (e, m) for e, m in DICTIONARY_TARGETS if config["dictionaries"][m].get("beta") == "auto"
]


GATED_DICTIONARIES = [
    (e, m) for e, m in DICTIONARY_TARGETS
    if config["dictionaries"][m]["architecture"]
    in config.get("dictionary_gates", {}).get("architectures", ["mp"])
]


def dictionary_gate_inputs(wildcards):
    """Metric rows of the gated dictionaries, the dictionaries table and, on toyworld, the
    per-concept ground-truth table."""
    inputs = {
        "metrics": [f"results/metrics/{e}/{m}.csv" for e, m in GATED_DICTIONARIES],
        "summary": "results/tables/dictionaries.csv",
    }
    if DATASET_KINDS.get(ANALYSIS_DATASET) == "toyworld":
        inputs["concepts"] = "results/tables/groundtruth_concepts.csv"
    return inputs


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


def dictionary_config(wildcards):
    """The ``dictionaries.<method>`` block a target names, or one line saying which exist."""
    name = wildcards.method
    if name not in config.get("dictionaries", {}):
        raise WorkflowError(
            f"unknown dictionary '{name}' in target; config 'dictionaries' has {DICTIONARIES}"
        )
    return config["dictionaries"][name]


# what crossmodal.dictionaries.settings (training_pairs, training_settings) and the training
# scripts read of `dictionary_training` (its `dataset` picks the input; checkpoint_every is a
# logging knob, read from snakemake.config)
DICTIONARY_TRAINING_KEYS = (
    "split", "pairs", "epochs", "batch_size", "lr", "grad_clip", "alignment",
    "stop_when_active_stable", "patience", "tolerance", "window_steps", "warmup_steps",
    "decay_steps",
)


def dictionary_training():
    return pick(config.get("dictionary_training"), *DICTIONARY_TRAINING_KEYS)


def dictionary_spec(wildcards):
    """The ``dictionaries.<method>`` block less its logging knob (checkpoint_every)."""
    return without(dictionary_config(wildcards), "checkpoint_every")


def dictionary_training_inputs(wildcards):
    inputs = {
        "embeddings": f"results/embeddings/{wildcards.encoder}/"
        f"{config['dictionary_training']['dataset']}.parquet"
    }
    if dictionary_config(wildcards).get("beta") == "auto":
        inputs["beta_sweep"] = (
            f"results/dictionaries/{wildcards.encoder}/{wildcards.method}/beta_sweep.csv"
        )
    return inputs


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


# Each later stage's config block, input functions and target list (no rules: those are in
# rules/<stage>.smk).
include: "inputs/interventions.smk"
include: "inputs/monosemanticity.smk"
include: "inputs/case_studies.smk"
