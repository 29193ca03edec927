# Config loading and validation, the derived names every stage uses, the thread helpers and the
# params helpers. No science here; each later stage keeps its own config block, input functions
# and targets in rules/inputs/<stage>.smk.
import os
import sys

from snakemake.utils import validate

# The Snakefile validates with the checkout's library even before `pip install -e .`; scripts
# import the installed package (README set-up).
sys.path.insert(0, os.path.abspath(os.path.join(workflow.basedir, "workflow")))

from crossmodal.config import (
    ConfigError,
    canonical,
    check_config,
    intervention_dictionary,
    intervention_evaluations,
    table1_dictionary,
)
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
# The scheduler's budget too: on this machine `--cores 8` with 2 CPUs schedules 2 cores' worth of
# job threads at a time, exactly as `--cores 2` does, instead of four 2-thread jobs fighting for
# 2 CPUs (Snakemake keeps the budget in workflow.global_resources["_cores"]).
if workflow.local_exec and workflow.global_resources["_cores"].value not in (None, CORES):
    workflow.global_resources["_cores"] = CORES
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


# Each stage's config block, input functions and target list (no rules: those are in
# rules/<stage>.smk), in the order their globals build on each other.
include: "inputs/data.smk"
include: "inputs/encoders.smk"
include: "inputs/dictionaries.smk"
include: "inputs/analysis.smk"
include: "inputs/interventions.smk"
include: "inputs/monosemanticity.smk"
include: "inputs/case_studies.smk"
include: "inputs/report.smk"
