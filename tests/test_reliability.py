"""Reliability of the workflow on config/smoke.yaml: a run killed with SIGKILL in the
middle of a dictionary's training leaves nothing truncated behind and the rerun with
--rerun-incomplete (as both profiles set it) completes; malformed configs stop the real
`snakemake` command with one line that names the key."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from crossmodal.config import ConfigError, check_config
from test_config import MALFORMED
from test_workflow import ROOT, SMOKE, describe, fresh_workdir, run_ok, snakemake

pytestmark = pytest.mark.workflow

METHOD = "sae"
DICTIONARY = Path(f"results/dictionaries/toyclip/{METHOD}")
EMBEDDINGS = "results/embeddings/toyclip/toyworld.parquet"
# long enough to be killed mid-run: 200 epochs x 4 batches, a checkpoint every 40 steps
EPOCHS, CHECKPOINT_EVERY, STEPS_PER_EPOCH = 200, 40, 4


def _slow_dictionary_config() -> str:
    config = yaml.safe_load(SMOKE.read_text())
    config["dictionaries"][METHOD]["epochs"] = EPOCHS
    config["dictionary_training"]["checkpoint_every"] = CHECKPOINT_EVERY
    assert config["datasets"]["toyworld"]["n_train"] // config["dictionary_training"][
        "batch_size"] == STEPS_PER_EPOCH
    return yaml.safe_dump(config, sort_keys=False)


def _script_processes(session: int, script: str) -> list[int]:
    """PIDs in ``session`` whose command line names ``script``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) != session:
                continue
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ProcessLookupError):
            continue
        if script in cmdline:
            pids.append(int(entry.name))
    return pids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.reliability
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the job's process through /proc")
def test_sigkill_mid_training_then_rerun_incomplete(tmp_path_factory):
    workdir = fresh_workdir(tmp_path_factory, "sigkill", _slow_dictionary_config())
    run_ok(workdir, EMBEDDINGS)  # the dictionary's input, built beforehand

    command = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"),
               "--directory", str(workdir), "--configfile", str(workdir / "smoke.yaml"),
               "--cores", "2", str(DICTIONARY / "model.pt")]
    log = (workdir / "killed_run.log").open("w")
    victim = subprocess.Popen(command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    checkpoints = workdir / DICTIONARY / "checkpoints"
    try:
        deadline = time.monotonic() + 600
        while True:  # the job's script is running and has written its first checkpoint
            assert victim.poll() is None, (workdir / "killed_run.log").read_text()
            scripts = _script_processes(victim.pid, "train_dictionary.py")
            if scripts and any(checkpoints.glob("step_*.pt")):
                break
            assert time.monotonic() < deadline, "train_dictionary never got going"
            time.sleep(0.05)
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
    finally:
        if victim.poll() is None:
            os.killpg(victim.pid, signal.SIGKILL)
        log.close()
    for _ in range(100):  # the script died with its process group
        if not any(_alive(pid) for pid in scripts):
            break
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in scripts), scripts
    assert victim.returncode == -signal.SIGKILL

    from crossmodal.dictionaries.checkpoint import load_dictionary

    # killed mid-run: the final outputs do not exist, every checkpoint on disk is complete
    assert not (workdir / DICTIONARY / "model.pt").exists()
    assert not (workdir / DICTIONARY / "train_log.parquet").exists()
    written = sorted(checkpoints.glob("step_*.pt"))
    assert 0 < len(written) < EPOCHS * STEPS_PER_EPOCH // CHECKPOINT_EVERY, written
    for path in written:
        load_dictionary(path)
    partial = sorted(str(p.relative_to(workdir)) for p in (workdir / "results").rglob("*.tmp-*"))

    # a plain rerun refuses to build on the killed job's leftovers and names them
    refused = snakemake(workdir, str(DICTIONARY / "model.pt"))
    assert refused.returncode != 0, describe(refused)
    assert "IncompleteFilesException" in refused.stdout, describe(refused)
    assert "--rerun-incomplete" in refused.stdout, describe(refused)
    assert str(DICTIONARY / "checkpoints") in refused.stdout, describe(refused)
    # SIGKILL also left snakemake's lock on the directory: --unlock removes it
    locked = snakemake(workdir, "--rerun-incomplete", str(DICTIONARY / "model.pt"))
    assert locked.returncode != 0, describe(locked)
    assert "Directory cannot be locked" in locked.stdout, describe(locked)
    run_ok(workdir, "--unlock")

    rerun = run_ok(workdir, "--rerun-incomplete", str(DICTIONARY / "model.pt"))
    assert "train_dictionary" in rerun.stdout, describe(rerun)
    _, facts = load_dictionary(workdir / DICTIONARY / "model.pt", expected_d=32)
    assert facts["method"] == METHOD
    steps = sorted(checkpoints.glob("step_*.pt"))  # the killed run's were removed, not mixed in
    assert len(steps) == EPOCHS * STEPS_PER_EPOCH // CHECKPOINT_EVERY, steps
    for path in steps:
        load_dictionary(path)
    # a temporary file a SIGKILL left mid-write is never taken for an output, and the rerun
    # leaves none of its own
    left = sorted(str(p.relative_to(workdir)) for p in (workdir / "results").rglob("*.tmp-*"))
    assert set(left) <= set(partial), (partial, left)
    done = snakemake(workdir, "-n", str(DICTIONARY / "model.pt"))
    assert "Nothing to be done" in done.stdout, describe(done)


# --- malformed configs through the real command --------------------------------------------------

# (test_workflow.snakemake runs in a directory without config/config.yaml, so the Snakefile's
# `configfile:` is skipped and smoke.yaml, mutated, is the whole config)
THROUGH_SNAKEMAKE = [
    "negative-size", "unknown-dataset-kind", "missing-top-level-extract", "missing-nested-epochs",
    "seed-wrong-type", "extra-top-level-key", "extra-encoder-key", "no-datasets",
    "section-wrong-type", "unknown-architecture", "beta-neither-number-nor-auto",
    "target-unknown-encoder", "mono-model-not-a-target", "beta-auto-without-sweep",
]


@pytest.mark.parametrize("kind", THROUGH_SNAKEMAKE)
def test_malformed_config_stops_snakemake_with_one_line(tmp_path_factory, kind):
    mutate, expected_parts = next((m, e) for i, m, e in MALFORMED if i == kind)
    smoke = yaml.safe_load(SMOKE.read_text())
    mutate(smoke)
    with pytest.raises(ConfigError) as info:
        check_config(copy.deepcopy(smoke), ROOT / "config" / "schema.yaml")
    expected = str(info.value)  # what test_config checks, one line naming the key
    for part in expected_parts:
        assert part in expected, (part, expected)
    workdir = fresh_workdir(tmp_path_factory, f"bad-{kind}", yaml.safe_dump(smoke))
    process = snakemake(workdir, "all", timeout=300)
    assert process.returncode != 0, describe(process)
    lines = [line for line in process.stdout.splitlines() if "config error" in line]
    assert lines == [expected], describe(process)
    assert "Traceback" not in process.stdout, describe(process)
    assert "Building DAG" not in process.stdout, describe(process)
    assert not (workdir / "results").exists()


def test_local_profile_plans_the_same_dag(tmp_path_factory):
    from test_workflow import job_stats

    workdir = fresh_workdir(tmp_path_factory, "local-profile")
    plain = run_ok(workdir, "--dry-run", "all")
    # test_workflow.snakemake passes --cores 2, which overrides the profile's `cores: all`
    profiled = run_ok(workdir, "--profile", str(ROOT / "config/profiles/local"), "--dry-run",
                      "all")
    assert "Using profile" in profiled.stdout and "config/profiles/local" in profiled.stdout
    assert job_stats(profiled.stdout) == job_stats(plain.stdout)
