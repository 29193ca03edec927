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


def test_cpu_comes_from_the_job_logs_line_over_snakemakes_sample(tmp_path):
    benchmarks, logs = tmp_path / "results/benchmarks/encoders", tmp_path / "results/logs/encoders"
    benchmarks.mkdir(parents=True)
    logs.mkdir(parents=True)
    header = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    for name, wall, sampled in [("a", 20.5, 15.0), ("b", 9.0, 8.0)]:
        (benchmarks / f"{name}.tsv").write_text(header + f"{wall}\t0:00:20\t1\t1\t1\t1\t0\t0\t70\t"
                                                f"{sampled}\n")
    (logs / "a.log").write_text("train toy clip: 100%\ncrossmodal cpu: 20.14 s\n")
    (logs / "b.log").write_text("no CPU line: an older run\n")
    (logs / "c.log").write_text("crossmodal cpu: 3.50 s\n")   # a rule without a benchmark
    jobs = workflow_run.read_jobs(tmp_path).set_index("job")
    assert jobs.loc["encoders/a", "cpu_s"] == pytest.approx(20.14)
    assert jobs.loc["encoders/a", "cpu_source"] == "log"
    assert jobs.loc["encoders/b", "cpu_s"] == pytest.approx(8.0)
    assert jobs.loc["encoders/b", "cpu_source"] == "benchmark"
    assert jobs.loc["encoders/c", "cpu_s"] == pytest.approx(3.5)
    assert set(jobs["group"]) == {"encoders"}
