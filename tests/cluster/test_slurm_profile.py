"""The workflow on a real SLURM cluster through config/profiles/slurm.

Opt-in: bring a cluster up, then run with CROSSMODAL_CLUSTER_TESTS=1 (.ci/run does this)::

    bash tests/cluster/slurm_up.sh
    CROSSMODAL_CLUSTER_TESTS=1 python -m pytest -m cluster -rP tests/cluster
    bash tests/cluster/slurm_down.sh

Without the variable every test here is skipped; with it, a cluster that does not answer is a
failure, not a skip. A temporary copy of the workflow runs `snakemake --profile
config/profiles/slurm` on config/smoke.yaml (alone, as test_workflow runs it: the working
directory has no config/config.yaml for it to extend): every target of `all` must exist and every
job must have gone through sbatch; then a rule that fails on purpose (added only to the copy)
must be reported as failed while an independent target is still built (the profile's keep-going).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_workflow import SMOKE

pytestmark = [pytest.mark.cluster, pytest.mark.workflow]

ROOT = Path(__file__).resolve().parents[2]
PROFILE = "config/profiles/slurm"
WORKFLOW_FILES = ["Snakefile", "rules", "workflow", "config", "envs", "report"]
ENABLE = "CROSSMODAL_CLUSTER_TESTS"
FAILING_RULE = "deliberately_failing"
FAILING_TARGET = "results/cluster_test/never.txt"
INDEPENDENT_TARGET = "results/figures/gap_illustration.png"


def _require_cluster() -> None:
    if os.environ.get(ENABLE) != "1":
        pytest.skip(f"SLURM test: run tests/cluster/slurm_up.sh and set {ENABLE}=1")
    if shutil.which("sbatch") is None or shutil.which("squeue") is None:
        pytest.fail(f"{ENABLE}=1 but sbatch/squeue are not on PATH (tests/cluster/slurm_up.sh)")
    ping = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=30,
                          check=False)
    if "UP" not in ping.stdout:
        pytest.fail(f"{ENABLE}=1 but slurmctld does not answer: {ping.stdout}{ping.stderr}")
    partition = subprocess.run(["sinfo", "-h", "-p", "main", "-o", "%a %D"],
                               capture_output=True, text=True, timeout=30, check=False)
    if not partition.stdout.startswith("up"):
        pytest.fail(f"partition 'main' (the slurm profile's default) is not up: "
                    f"{partition.stdout}{partition.stderr}")


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def snakemake_slurm(workflow: Path, workdir: Path, *args: str,
                    timeout: int) -> subprocess.CompletedProcess:
    """`snakemake --profile config/profiles/slurm` from the ``workflow`` copy, working in
    ``workdir`` on its smoke.yaml.

    Overrides for a small test cluster: one CPU per job (--max-threads 1: the node runs as
    many jobs at once as it has CPUs; the smoke jobs are tiny), and the first status check after
    3 s instead of 20 s (MinJobAge=300 keeps squeue reliable at either).
    """
    command = [sys.executable, "-m", "snakemake", "--profile", PROFILE,
               "--directory", str(workdir), "--configfile", str(workdir / "smoke.yaml"),
               "--max-threads", "1", "--slurm-init-seconds-before-status-checks", "3", *args]
    return subprocess.run(command, cwd=workflow, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout, check=False)


def describe(process: subprocess.CompletedProcess) -> str:
    return f"$ {' '.join(process.args)}\nexit status {process.returncode}\n{process.stdout}"


def all_inputs(dry_run_output: str) -> list[str]:
    """The input files of the `all` job in a dry run's job listing."""
    lines = dry_run_output.splitlines()
    for index, line in enumerate(lines):
        if re.match(r"^(local)?rule all:$", line):
            for detail in lines[index + 1:]:
                if detail.startswith("    input: "):
                    return detail.removeprefix("    input: ").split(", ")
                if not detail.startswith("    "):
                    break
    raise AssertionError(f"no 'rule all' with inputs in the dry run:\n{dry_run_output}")


@pytest.fixture(scope="module")
def workflow_copy(tmp_path_factory) -> tuple[Path, Path]:
    """(a copy of the workflow, a working directory holding smoke.yaml)."""
    _require_cluster()
    base = tmp_path_factory.mktemp("slurm")
    workflow, workdir = base / "workflow", base / "work"
    for name in WORKFLOW_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, workflow / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            workflow.mkdir(exist_ok=True)
            shutil.copy2(source, workflow / name)
    workdir.mkdir()
    shutil.copy(SMOKE, workdir / "smoke.yaml")
    return workflow, workdir


@pytest.fixture(scope="module")
def slurm_all(workflow_copy):
    """`all` on smoke.yaml through SLURM, once for the module: (workflow copy, working
    directory, process, the targets of `all`, the number of jobs planned)."""
    workflow, workdir = workflow_copy
    plan = snakemake_slurm(workflow, workdir, "--dry-run", "all", timeout=300)
    assert plan.returncode == 0, describe(plan)
    targets = all_inputs(plan.stdout)
    # jobs to submit: every job of the plan but `all` (it has nothing to run)
    planned = sum(1 for rule in re.findall(r"^(?:local)?rule (\w+):$", plan.stdout,
                                             flags=re.MULTILINE) if rule != "all")
    start = time.monotonic()
    process = snakemake_slurm(workflow, workdir, "all", timeout=3600)
    wall = time.monotonic() - start
    print(f"SLURM smoke run: {planned} jobs, wall time {wall:.0f} s "
          f"(node with {_cpus()} CPUs, exit status {process.returncode})")
    (workdir.parent / "slurm_all.log").write_text(process.stdout)
    return workflow, workdir, process, targets, planned


def test_smoke_all_completes_through_slurm(slurm_all):
    workflow, workdir, process, targets, planned = slurm_all
    assert process.returncode == 0, describe(process)
    assert len(targets) > 50, targets  # every figure, table and model of the smoke DAG
    missing = [t for t in targets if not (workdir / t).is_file()]
    assert not missing, missing
    empty = [t for t in targets if (workdir / t).stat().st_size == 0]
    assert not empty, empty
    # every job (all but the local `all`) was an sbatch submission, and each one finished
    submitted = re.findall(r"has been submitted with SLURM jobid (\d+)", process.stdout)
    assert len(submitted) == planned, (len(submitted), planned)
    assert len(set(submitted)) == len(submitted)
    assert f"{planned + 1} of {planned + 1} steps (100%) done" in process.stdout, \
        describe(process)
    assert "Using profile config/profiles/slurm" in process.stdout
    # the status checks went through squeue (no slurmdbd on the test cluster)
    assert "Falling back to 'sacct'" not in process.stdout, describe(process)
    again = snakemake_slurm(workflow, workdir, "--dry-run", "all", timeout=300)
    assert "Nothing to be done" in again.stdout, describe(again)


FAILING_SNAKEFILE = f'''
include: "Snakefile"


rule {FAILING_RULE}:
    """Fails on purpose: the cluster test's failing job."""
    output:
        "{FAILING_TARGET}",
    log:
        "results/logs/cluster_test/{FAILING_RULE}.log",
    threads: 1
    resources:
        mem_mb=200,
        runtime=2,
    shell:
        "echo '{FAILING_RULE}: failing on purpose' > {{log}}; exit 3"
'''


def test_failing_job_is_reported_and_independent_work_goes_on(slurm_all):
    workflow, workdir, first, _, _ = slurm_all
    assert first.returncode == 0, "the smoke run itself failed; see the test above"
    (workflow / "failing.smk").write_text(FAILING_SNAKEFILE)
    (workdir / INDEPENDENT_TARGET).unlink()
    process = snakemake_slurm(workflow, workdir, "-s", "failing.smk", FAILING_TARGET,
                              INDEPENDENT_TARGET, timeout=900)
    output = process.stdout
    assert process.returncode != 0, describe(process)
    assert f"Error in rule {FAILING_RULE}:" in output, describe(process)
    assert re.search(r"SLURM-job '\d+' failed, SLURM status is: 'FAILED'", output), output
    assert f"{FAILING_RULE}: failing on purpose" in output, output  # show-failed-logs
    assert "Trying to restart job" in output, output  # the profile's retries: 1
    assert "Exiting because a job execution failed" in output, output
    assert not (workdir / FAILING_TARGET).exists()
    # keep-going: the independent job still ran and finished
    assert (workdir / INDEPENDENT_TARGET).is_file(), output
    assert re.search(r"Finished jobid: \d+ \(Rule: gap_illustration\)", output), output


# --- what the profile asks SLURM for (a dry run: needs the plugin, not a cluster) ---------------


def _job_resources(output: str, rule: str) -> dict[str, str]:
    """The `resources:` of the first job of ``rule`` in a dry run's listing."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line == f"rule {rule}:")
    for line in lines[start + 1:]:
        if line.startswith("    resources: "):
            items = line.removeprefix("    resources: ").split(", ")
            return dict(item.split("=", 1) for item in items)
        if not line.startswith("    "):
            break
    raise AssertionError(f"no resources for rule {rule}:\n{output}")


@pytest.mark.parametrize("gpus", [None, "1"])
def test_profile_maps_threads_memory_and_the_gpu_switch(tmp_path_factory, monkeypatch, gpus):
    pytest.importorskip("snakemake_executor_plugin_slurm")
    from test_workflow import describe as describe_run
    from test_workflow import fresh_workdir, snakemake

    monkeypatch.delenv("CROSSMODAL_SLURM_PARTITION", raising=False)
    monkeypatch.delenv("CROSSMODAL_SLURM_GPU_PARTITION", raising=False)
    if gpus is None:
        monkeypatch.delenv("CROSSMODAL_SLURM_GPUS", raising=False)
    else:
        monkeypatch.setenv("CROSSMODAL_SLURM_GPUS", gpus)
        monkeypatch.setenv("CROSSMODAL_SLURM_GPU_PARTITION", "gpu")
    workdir = fresh_workdir(tmp_path_factory, "slurm-profile")
    # test_workflow.snakemake adds --cores 2: the data rule claims both cores, a job on a toy
    # encoder's embeddings one (rules/common.smk threads_for_encoder)
    process = snakemake(workdir, "--profile", str(ROOT / PROFILE), "--dry-run",
                        "results/dictionaries/toyclip/sae/model.pt")
    assert process.returncode == 0, describe_run(process)
    light = _job_resources(process.stdout, "toyworld_data")
    assert light["slurm_partition"] == "main" and light["cpus_per_task"] == "2", light
    assert light["mem_mb"] == "4000" and light["runtime"] == "30", light  # the rule's own
    assert "gpu" not in light, light
    heavy = _job_resources(process.stdout, "train_dictionary")
    assert heavy["cpus_per_task"] == "1", heavy
    assert heavy["mem_mb"] == "16000" and heavy["runtime"] == "240", heavy  # set-resources
    if gpus is None:  # the rule's gpu=1 is overridden: no GPU request, the default partition
        assert heavy["gpu"] == "0" and heavy["slurm_partition"] == "main", heavy
    else:
        assert heavy["gpu"] == "1" and heavy["slurm_partition"] == "gpu", heavy
