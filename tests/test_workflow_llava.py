"""Case study 2 with the LLaVA victim in the workflow: config/smoke.yaml with
``case_studies.adversarial.victim: {kind: llava, model: <dir>, judge: {kind: language_model,
model: <dir>}}``, a tiny random LLaVA and a tiny random Llama judge saved to those directories.
Only paper A table 3 and its inputs are built."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from crossmodal.case_studies.adversarial import DEFENCES
from test_workflow import SMOKE, describe, fresh_workdir, run_ok, snakemake
from tiny_llava import write_tiny_causal_lm, write_tiny_llava

pytestmark = pytest.mark.workflow

TABLE3 = "results/tables/paperA_table3.csv"
LOG = "results/logs/case_studies/adversarial.log"


def _llava_config(model_dir, judge_dir) -> str:
    """smoke.yaml with the LLaVA victim at ``model_dir``, 2 answers of ≤ 4 tokens per image,
    judged by the language model at ``judge_dir``."""
    config = yaml.safe_load(SMOKE.read_text())
    config["case_studies"]["adversarial"]["victim"] = {
        "kind": "llava", "model": str(model_dir),
        "judge": {"kind": "language_model", "model": str(judge_dir)},
        "attempts": 2, "max_new_tokens": 4}
    return yaml.safe_dump(config, sort_keys=False)


def test_llava_victim_fails_in_one_line_then_runs_table3(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("tiny-llava") / "llava"
    judge_dir = model_dir.parent / "judge"
    workdir = fresh_workdir(tmp_path_factory, "llava-run", _llava_config(model_dir, judge_dir))

    # the weights are not written yet: the plan names them before any job runs ...
    planned = snakemake(workdir, TABLE3)
    assert planned.returncode != 0, describe(planned)
    lines = [line for line in planned.stdout.splitlines()
             if line.startswith("case_studies.adversarial.victim.model: ")]
    assert len(lines) == 1 and str(model_dir) in lines[0], describe(planned)
    judge_lines = [line for line in planned.stdout.splitlines()
                   if line.startswith("case_studies.adversarial.victim.judge.model: ")]
    assert len(judge_lines) == 1 and str(judge_dir) in judge_lines[0], describe(planned)
    assert not (workdir / "results").exists()
    # ... and a run past the preflight fails in the job, in one line naming the directory
    missing = snakemake(workdir, TABLE3, "--config", "preflight=false")
    assert missing.returncode != 0, describe(missing)
    errors = [line for line in missing.stdout.splitlines() if "crossmodal error" in line]
    assert errors and "LLaVA victim" in errors[0] and str(model_dir) in errors[0], describe(missing)

    write_tiny_llava(model_dir)
    write_tiny_causal_lm(judge_dir)
    run_ok(workdir, TABLE3)
    table = pd.read_csv(workdir / TABLE3)
    assert table["defence"].tolist() == list(DEFENCES)
    assert (table["victim"] == "llava").all() and (table["runs"] == 3).all()
    assert table["success_mean"].between(0, 1).all()
    log = (workdir / LOG).read_text()
    assert (f"LLaVA victim {model_dir}: 2 sampled answers of at most 4 new tokens per image, "
            f"judge language model {judge_dir}") in log
