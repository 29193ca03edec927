"""Every `snakemake …` command of the README, run as written (as a dry run where it would start
jobs) in a fresh directory holding a copy of config/: it must plan, or, for the papers'
experiments on a machine without their data, stop with the plan-time list of what is missing.
`--report` needs a finished run; tests/test_workflow.py runs it on the smoke run."""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
# templates, not commands: a placeholder stands where the user's own value goes
PLACEHOLDER = re.compile(r"<[^>]+>|…|my_paths\.yaml")


def readme_commands(text: str) -> list[str]:
    """The `snakemake …` commands of a markdown text: lines of fenced code blocks (with their
    backslash continuations, comments removed) and inline code spans."""
    commands, in_block, pending = [], False, ""
    for line in text.splitlines():
        if line.strip().startswith("```"):
            in_block, pending = not in_block, ""
            continue
        if not in_block:
            continue
        line = pending + line.split(" #")[0].rstrip()
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        if line.strip().startswith("snakemake "):
            commands.append(" ".join(line.split()))
    commands += [" ".join(span.split()) for span in re.findall(r"`(snakemake [^`]+)`", text)]
    return list(dict.fromkeys(commands))


def runnable(commands: list[str]) -> list[str]:
    return [c for c in commands if not PLACEHOLDER.search(c) and "--report" not in c]


def test_the_readme_names_its_main_commands():
    commands = readme_commands(README.read_text(encoding="utf-8"))
    for expected in ("snakemake --cores 8 all", "snakemake --cores 2 case_studies",
                     "snakemake --unlock",
                     "snakemake --cores 8 all --configfile config/smoke.yaml"):
        assert expected in commands, expected
    assert readme_commands("```\nsnakemake -n \\\n    all  # comment\n```\n`snakemake --x`") \
        == ["snakemake -n all", "snakemake --x"]


def run(command: str, workdir: Path, dry_run: bool = True) -> subprocess.CompletedProcess:
    """``command`` (a `snakemake …` line) on the checkout's Snakefile in ``workdir``, as a dry
    run unless it starts no job anyway or ``dry_run`` is False."""
    arguments = shlex.split(command)[1:]
    read_only = {"--unlock", "--summary", "--lint", "--dag", "--rulegraph"} & set(arguments)
    dry = [] if read_only or "-n" in arguments or not dry_run else ["-n"]
    # -n before the command's own words: a trailing --configfile takes every word after it
    full = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), *dry, *arguments]
    return subprocess.run(full, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=300, check=False)


@pytest.mark.parametrize("command", runnable(readme_commands(README.read_text(encoding="utf-8"))))
def test_readme_command_runs_as_written(command, tmp_path):
    if "profiles/slurm" in command and importlib.util.find_spec(
            "snakemake_executor_plugin_slurm") is None:
        pytest.skip("the SLURM profile needs pip install -e '.[cluster]'")
    if "--sdm conda" in command and shutil.which("conda") is None:
        pytest.skip("needs conda; tests/test_envs.py runs it with a stand-in for conda")
    shutil.copytree(ROOT / "config", tmp_path / "config")
    process = run(command, tmp_path)
    output = f"$ {command}\n{process.stdout[-3000:]}"
    if "config/experiments/" in command:  # no papers' data here: the plan says what is missing
        assert process.returncode != 0, output
        assert "this config's data or weights are not on this machine" in process.stdout, output
        assert re.search(r"^(datasets|encoders)\.\w+", process.stdout, re.MULTILINE), output
    else:
        assert process.returncode == 0, output


def test_more_cores_than_the_machine_schedule_the_machines_cores(tmp_path):
    """`--cores 8` on a smaller machine schedules the machine's CPUs, as `--cores <CPUs>` does
    (a real run of one small job: the dry run prints no core count)."""
    cpus = len(os.sched_getaffinity(0))
    shutil.copytree(ROOT / "config", tmp_path / "config")
    command = (f"snakemake --cores {cpus + 6} results/data/toyworld/pairs.parquet "
               "--configfile config/smoke.yaml")
    process = run(command, tmp_path, dry_run=False)
    assert process.returncode == 0, process.stdout[-3000:]
    assert f"Provided cores: {cpus}\n" in process.stdout, process.stdout[-3000:]
