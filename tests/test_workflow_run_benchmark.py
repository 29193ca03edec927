"""benchmarks/workflow_run.py: reading a snakemake log's job intervals and core allocation."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "workflow_run.py"
spec = importlib.util.spec_from_file_location("workflow_run", SCRIPT)
workflow_run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(workflow_run)

LOG = """\
[Tue Dec  1 18:46:35 2026]
localrule a:
    jobid: 3
    threads: 2
[Tue Dec  1 18:47:05 2026]
Finished jobid: 3 (Rule: a)
[Tue Dec  1 18:47:05 2026]
localrule b:
    jobid: 5
[Tue Dec  1 18:47:05 2026]
rule c:
    jobid: 6
[Tue Dec  1 18:47:15 2026]
Finished jobid: 6 (Rule: c)
[Tue Dec  1 18:47:25 2026]
Finished jobid: 5 (Rule: b)
"""


def test_job_intervals_and_core_allocation_by_hand(tmp_path):
    log = tmp_path / "run.log"
    log.write_text(LOG)
    intervals = workflow_run.job_intervals(log)
    assert list(intervals["rule"]) == ["a", "b", "c"]
    assert list(intervals["threads"]) == [2, 1, 1]  # no threads line: 1 thread
    # a: 2 threads × 30 s, b: 1 × 20 s, c: 1 × 10 s
    assert workflow_run.core_allocation(intervals) == pytest.approx(90.0)
    assert workflow_run.elapsed_seconds(log) == pytest.approx(50.0)
