"""Which jobs a config change reruns, derived from Snakemake itself.

Snakemake reruns a job when its params change (rerun trigger ``params``), so every rule's params
must hold exactly the config values its script reads. Every leaf of config/smoke.yaml is
perturbed in turn (to the first nearby value the config checks accept), the DAG of ``all`` is
built in-process with Snakemake's API under the perturbed config (no job runs; ~0.3 s a DAG), and
each job's params are serialised exactly as Snakemake's persistence records them
(``persistence._params``). A job reruns by params when that record differs from the unperturbed
one; a job whose input files change reruns by the ``input`` trigger, and one that appears or
disappears is a structural change (the leaf names inputs or targets).

Checks: (a) every leaf is read by some rule other than the report (which shows the whole
config) or is a documented performance knob; (b) a performance knob reruns nothing, the report
included; (c) each rule's params are exactly what its script reads: the param names equal the
``snakemake.params.<name>`` its script reads, and every key of a dict param that was picked from a
config block is read by the script or the crossmodal code; and the reruns the user reported
(decoder by the prompt, vector_arithmetic by probe_pairs, dictionaries by checkpoint_every...)
are gone.
"""

from __future__ import annotations

import ast
import copy
import logging
import multiprocessing
import os
import re
from functools import cache
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "config" / "smoke.yaml"
SCHEMA = ROOT / "config" / "schema.yaml"
SCRIPTS = ROOT / "workflow" / "scripts"
LIBRARY = ROOT / "workflow" / "crossmodal"
NOT_READERS = {"report", "all"}  # the report shows the whole config; all is a target


def performance_knobs() -> list[tuple[str, ...]]:
    """PERFORMANCE_KNOBS of rules/common.smk (the one documented list)."""
    text = (ROOT / "rules" / "common.smk").read_text()
    block = re.search(r"^PERFORMANCE_KNOBS = (\[.*?^\])", text, re.DOTALL | re.MULTILINE).group(1)
    return [tuple(knob) for knob in ast.literal_eval(block)]


def is_knob(path: tuple) -> bool:
    return any(len(knob) == len(path) and all(k in ("*", p) for k, p in zip(knob, path))
               for knob in performance_knobs())


def leaves(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, (*path, key))
    elif isinstance(node, list) and node:
        for index, value in enumerate(node):
            yield from leaves(value, (*path, index))
    else:
        yield path, node


@cache
def schema_enums() -> list[list]:
    found = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("enum"), list):
                found.append(node["enum"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load(SCHEMA.read_text()))
    return found


def candidates(value, path) -> list:
    """Nearby values to try, in order, until the config checks accept one."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 1, value - 1, value * 2]
    if isinstance(value, float):
        return [v for v in (value * 1.1, value * 0.9, value + 0.1, value - 0.1) if v != value]
    if isinstance(value, str):
        others = [v for enum in schema_enums() if value in enum for v in enum if v != value]
        smoke = yaml.safe_load(SMOKE.read_text())
        same_key = [v for p, v in leaves(smoke) if p[-1:] == path[-1:] and isinstance(v, str)]
        names = [n for block in ("datasets", "encoders", "dictionaries") for n in smoke[block]]
        pool = [*others, *same_key, *(names if value in names else [])]
        return [value + " x", *dict.fromkeys(v for v in pool if v != value)][:4]
    if value is None:
        return [1, "x"]
    return []


def with_leaf(config, path, value):
    changed = copy.deepcopy(config)
    node = changed
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return changed


class Planner:
    """Builds the DAG of ``all`` for a config file in-process, as ``snakemake -n`` would."""

    def __init__(self, workdir: Path):
        self.workdir = workdir

    def jobs(self, configfile: Path):
        """{(rule, wildcards): (params as persistence records them, params objects, input
        files)}, or the
        error that stopped the workflow (an invalid config)."""
        from snakemake.api import SnakemakeApi
        from snakemake.settings.enums import Quietness
        from snakemake.settings.types import (
            ConfigSettings,
            DAGSettings,
            OutputSettings,
            ResourceSettings,
            StorageSettings,
        )

        try:
            with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
                workflow_api = api.workflow(
                    resource_settings=ResourceSettings(cores=2),
                    config_settings=ConfigSettings(configfiles=[configfile]),
                    storage_settings=StorageSettings(),
                    snakefile=ROOT / "Snakefile",
                    workdir=self.workdir,
                )
                workflow_api.dag(DAGSettings(targets={"all"}))
                workflow = workflow_api._workflow
                workflow._prepare_dag(forceall=False, ignore_incomplete=True,
                                      lock_warn_only=True, nolock=True)
                workflow._build_dag()
                return {
                    (job.rule.name, tuple(sorted(job.wildcards_dict.items()))):
                        (workflow.persistence._params(job), dict(job.params.items()),
                         sorted(map(str, job.input)))
                    for job in workflow.dag.jobs
                }
        except Exception as error:  # noqa: BLE001 (any rejection of the config)
            return error


def perturb(planner: Planner, base: dict, base_jobs: dict, path: tuple, value,
            config_file: Path) -> tuple[tuple, object, dict | None, list[str]]:
    """(path, value tried, {rule: "params" | "input" | "structure"} or None when no nearby
    value passes the config checks, the rejections)."""
    errors = []
    for candidate in candidates(value, path):
        config_file.write_text(yaml.safe_dump(with_leaf(base, path, candidate),
                                              sort_keys=False))
        jobs = planner.jobs(config_file)
        if isinstance(jobs, Exception):
            errors.append(f"{candidate!r}: {str(jobs).splitlines()[0][:100]}")
            continue
        reruns = {}
        for key in jobs.keys() | base_jobs.keys():
            if key not in jobs or key not in base_jobs:
                reruns.setdefault(key[0], "structure")
            elif jobs[key][0] != base_jobs[key][0]:
                reruns[key[0]] = "params"
            elif jobs[key][2] != base_jobs[key][2]:
                reruns.setdefault(key[0], "input")  # it names an input file
        return path, candidate, reruns, errors
    return path, None, None, errors


_WORKER: dict = {}  # what each forked worker of `scope` reads (set before the fork)


def _perturb_share(share: int) -> list:
    """Every ``workers``-th leaf from ``share`` on, in a worker with its own config file."""
    state = _WORKER
    config_file = state["workdir"] / f"perturbed-{share}.yaml"
    return [perturb(state["planner"], state["base"], state["base_jobs"], path, value, config_file)
            for path, value in state["leaves"][share::state["workers"]]]


@pytest.fixture(scope="module")
def scope(tmp_path_factory):
    """{leaf path: (value tried, {rule: "params" | "input" | "structure"})} for every leaf,
    plus the unperturbed jobs and the leaves no nearby value could change. The leaves are
    shared among one forked worker per core (each DAG is independent)."""
    logging.getLogger("snakemake").setLevel(logging.ERROR)
    workdir = tmp_path_factory.mktemp("rerun_scope")
    planner = Planner(workdir)
    base = yaml.safe_load(SMOKE.read_text())
    base_jobs = planner.jobs(SMOKE)
    assert isinstance(base_jobs, dict), base_jobs
    all_leaves = [(path, value) for path, value in leaves(base) if path != ("replace",)]
    workers = min(4, len(os.sched_getaffinity(0)))
    _WORKER.update(workdir=workdir, planner=planner, base=base, base_jobs=base_jobs,
                   leaves=all_leaves, workers=workers)
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        results = [row for share in pool.map(_perturb_share, range(workers)) for row in share]
    found = {path: (candidate, reruns) for path, candidate, reruns, _ in results
             if reruns is not None}
    frozen = {path: errors for path, _, reruns, errors in results if reruns is None}
    return base_jobs, found, frozen


def show(path) -> str:
    return ".".join(map(str, path))


def test_every_leaf_is_read_or_a_performance_knob(scope):
    _, found, frozen = scope
    print(f"\n{len(found) + len(frozen)} leaves of config/smoke.yaml; {len(found)} perturbed, "
          f"{len(frozen)} admit no nearby valid value (names the config checks pin):")
    for path, errors in frozen.items():
        print(f"  {show(path)}: {errors[:2]}")
    dead = [show(p) for p, (_, reruns) in found.items()
            if not is_knob(p) and not set(reruns) - NOT_READERS]
    assert not dead, f"config leaves no rule reads (dead config, or a missing param): {dead}"
    assert len(found) > 200


def test_performance_knobs_rerun_nothing(scope):
    _, found, _ = scope
    knobs = {p: reruns for p, (_, reruns) in found.items() if is_knob(p)}
    # smoke.yaml sets the extract, analysis and checkpoint knobs
    assert {("extract", "batch_size"), ("analysis", "batch_size"),
            ("dictionary_training", "checkpoint_every")} <= set(knobs)
    rerun = {show(p): r for p, r in knobs.items() if r}
    assert not rerun, f"performance knobs that rerun jobs: {rerun}"


@pytest.mark.parametrize("leaf, rule", [
    *[(("case_studies", "text_to_image", key), "train_image_decoder")
      for key in ("prompt", "guidance", "seeds", "control_seeds", "references", "steps",
                  "check_pairs", "encoder", "prompt_attributes")],
    (("interventions", "probe_pairs"), "vector_arithmetic"),
    (("interventions", "max_pairs"), "vector_arithmetic"),
    (("interventions", "zero_shot_family"), "vector_arithmetic"),
    (("analysis", "tau"), "vector_arithmetic"),
    (("analysis", "tau"), "gap_removal"),
    (("dictionary_training", "checkpoint_every"), "train_dictionary"),
    (("monosemanticity", "models"), "monosemanticity_scores"),
    (("monosemanticity", "galleries", "per_gallery"), "monosemanticity_scores"),
    (("analysis", "groundtruth_pairs"), "dictionary_metrics"),
    (("encoders", "toyclip", "training", "lr"), "extract_embeddings"),
    (("case_studies", "adversarial", "victim", "kind"), "text_to_image_control"),
])
def test_reported_reruns_are_gone(scope, leaf, rule):
    _, found, frozen = scope
    matches = {p: r for p, (_, r) in found.items() if p[:len(leaf)] == leaf}
    assert matches or any(p[:len(leaf)] == leaf for p in frozen), f"no leaf under {leaf}"
    assert all(r.get(rule) != "params" for r in matches.values()), (leaf, rule, matches)


def test_reads_reach_their_readers(scope):
    """The positive side: a value each reader reads does rerun it, by params."""
    _, found, _ = scope
    expected = {
        ("case_studies", "text_to_image", "prompt"): {"text_to_image_control"},
        ("case_studies", "text_to_image", "train_pairs"): {"train_image_decoder"},
        ("case_studies", "text_to_image", "decoder", "max_steps"): {"train_image_decoder"},
        ("interventions", "probe_pairs"): {"gap_removal"},
        ("interventions", "ood_k"): {"gap_removal", "vector_arithmetic"},
        ("dictionary_training", "lr"): {"train_dictionary", "beta_sweep",
                                        "train_dictionary_replica"},
    }
    for leaf, readers in expected.items():
        reruns = found[leaf][1]
        assert {r for r, why in reruns.items() if why == "params"} - NOT_READERS == readers, (
            leaf, reruns)
    # probe_pairs only reaches table 11's split (the labelled one)
    base_jobs, _, _ = scope
    gap_jobs = [k for k in base_jobs if k[0] == "gap_removal"]
    assert len(gap_jobs) == 3


# --- (c) each rule's params are exactly what its script reads -----------------------------------


def script_of(rule) -> Path | None:
    return Path(rule.script).name if rule.script else None


def params_read(script: Path) -> set[str]:
    """``snakemake.params.<name>`` / ``snakemake.params["name"]`` a script reads."""
    names = set()
    for node in ast.walk(ast.parse(script.read_text())):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
                and node.value.attr == "params"):
            names.add(node.attr)
        if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute)
                and node.value.attr == "params" and isinstance(node.slice, ast.Constant)):
            names.add(node.slice.value)
    return names - {"get", "keys", "items"}


@cache
def library_strings() -> frozenset[str]:
    strings = set()
    for path in [*LIBRARY.rglob("*.py"), *SCRIPTS.glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                strings.add(node.value)
            if isinstance(node, ast.Attribute):
                strings.add(node.attr)
            if isinstance(node, ast.keyword) and node.arg:
                strings.add(node.arg)
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                strings.add(node.target.id)  # dataclass fields filled from a mapping
    return frozenset(strings)


def test_params_are_the_names_each_script_reads(scope):
    base_jobs, _, _ = scope
    rules = {}
    for (rule, _), (_, objects, _) in base_jobs.items():
        rules.setdefault(rule, set()).update(objects)
    scripts = _rule_scripts()
    shared = {s for s in scripts.values() if list(scripts.values()).count(s) > 1}
    mismatched = {}
    for rule, names in rules.items():
        if rule not in scripts:
            continue
        read = params_read(SCRIPTS / scripts[rule])
        # a script several rules share reads the union of their params, branch by branch
        missing = set() if scripts[rule] in shared else read - names
        if names - read or missing:
            mismatched[rule] = {"unread params": sorted(names - read),
                                "read, not params": sorted(missing)}
    assert not mismatched, mismatched


def test_picked_keys_are_read(scope):
    """Every key of a dict param (a picked config block) is a name the scripts or the library
    use: no key rides along unread."""
    base_jobs, _, _ = scope
    unread = {}
    for (rule, _), (_, objects, _) in base_jobs.items():
        if rule in NOT_READERS:
            continue
        for name, value in objects.items():
            if isinstance(value, dict):
                missing = [k for k in value if str(k) not in library_strings()]
                if missing:
                    unread[f"{rule}.{name}"] = missing
    assert not unread, unread


@cache
def _rule_scripts() -> dict[str, str]:
    """rule name → its script's file name, from the rule files."""
    found = {}
    for path in (ROOT / "rules").glob("*.smk"):
        for block in re.split(r"^rule ", path.read_text(), flags=re.MULTILINE)[1:]:
            name = block.split(":")[0].strip()
            script = re.search(r"script:\s*\n\s*\"[^\"]*/([^/\"]+\.py)\"", block)
            if script:
                found[name] = script.group(1)
    return found
