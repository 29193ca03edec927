"""Benchmark: where a finished workflow run spent its time, from its per-job benchmark files.

    python benchmarks/workflow_run.py [workdir] [--top 15] [--log SNAKEMAKE_LOG]

Most rules write ``results/benchmarks/**.tsv`` (snakemake's ``benchmark:``: wall seconds ``s``
and ``cpu_time``), and every job's log ``results/logs/**.log`` ends with its exact CPU time
(``crossmodal.runtime.CPU_LINE``: user + system, imports included). Snakemake's ``cpu_time`` is
sampled (every second, then every 30 s) and misses the end of a job, so CPU comes from the logs
where they have the line. This prints the ``--top`` jobs by CPU time, the sums by rule, and the
totals: Σ wall, Σ CPU and Σ CPU / cores — the lower bound on the run's wall time with that many
cores busy all the time. With ``--log`` (the run's snakemake log) it also prints the run's real
elapsed time (snakemake's "Elapsed time" line, or first to last job timestamp) and how the cores
were spent: core-seconds allocated (Σ threads × job wall time) against the CPU the jobs used and
against cores × elapsed. Allocated ≫ used means rules claim threads they do not use.

Measured default `all` runs are summarised in the README.
"""

from __future__ import annotations

import argparse
import re
from datetime import datetime
from pathlib import Path

import pandas as pd

from crossmodal.runtime import logged_cpu_seconds


def read_benchmarks(workdir: Path) -> pd.DataFrame:
    """One row per benchmarked job: job (path under results/benchmarks), wall_s and snakemake's
    sampled_cpu_s."""
    root = workdir / "results" / "benchmarks"
    rows = []
    for path in sorted(root.rglob("*.tsv")):
        table = pd.read_csv(path, sep="\t")
        rows.append({"job": str(path.relative_to(root).with_suffix("")),
                     "wall_s": float(table["s"].iloc[-1]),
                     "sampled_cpu_s": float(table["cpu_time"].iloc[-1])})
    return pd.DataFrame(rows, columns=["job", "wall_s", "sampled_cpu_s"])


def read_log_cpu(workdir: Path) -> pd.DataFrame:
    """One row per job log that ends with the CPU line: job (path under results/logs), cpu_s."""
    root = workdir / "results" / "logs"
    rows = []
    for path in sorted(root.rglob("*.log")):
        lines = path.read_text(errors="replace").strip().splitlines()
        if lines and (cpu := logged_cpu_seconds(lines[-1])) is not None:
            rows.append({"job": str(path.relative_to(root).with_suffix("")), "cpu_s": cpu})
    return pd.DataFrame(rows, columns=["job", "cpu_s"])


def read_jobs(workdir: Path) -> pd.DataFrame:
    """Every job with a benchmark or a CPU line: job, group, wall_s, cpu_s (the log's exact CPU,
    else snakemake's sample), cpu_source."""
    jobs = read_benchmarks(workdir).merge(read_log_cpu(workdir), on="job", how="outer")
    if jobs.empty:
        raise SystemExit(f"{workdir / 'results'}: no benchmark files or job logs; "
                         "run the workflow first")
    jobs["cpu_source"] = jobs["cpu_s"].notna().map({True: "log", False: "benchmark"})
    jobs["cpu_s"] = jobs["cpu_s"].fillna(jobs["sampled_cpu_s"])
    jobs["group"] = jobs["job"].str.split("/").str[0]
    return jobs[["job", "group", "wall_s", "cpu_s", "cpu_source"]]


_STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")


def _timestamp(text: str) -> datetime:
    return datetime.strptime(" ".join(text.split()), "%a %b %d %H:%M:%S %Y")


def elapsed_seconds(log: Path) -> float | None:
    """The run's elapsed wall time from a snakemake log: its "Elapsed time" line, else the span
    between its first and last ``[Tue Dec  1 14:39:01 2026]`` job timestamps."""
    text = log.read_text(errors="replace")
    match = re.search(r"Elapsed time: (\d+):(\d\d):(\d\d)", text)
    if match:
        hours, minutes, seconds = map(int, match.groups())
        return hours * 3600 + minutes * 60 + seconds
    stamps = [_timestamp(match.group(1)) for line in text.splitlines()
              if (match := _STAMP.match(line.strip()))]
    if len(stamps) < 2:
        return None
    return (max(stamps) - min(stamps)).total_seconds()


def job_intervals(log: Path) -> pd.DataFrame:
    """One row per finished job of a snakemake log: rule, threads, start, end (datetimes).
    A job's block starts at the timestamp line before ``rule X:``; snakemake omits the
    ``threads:`` line for 1-thread jobs; ``Finished jobid: N`` follows the end timestamp."""
    jobs, now, current = {}, None, None
    for line in log.read_text(errors="replace").splitlines():
        stripped = line.strip()
        if stamp := _STAMP.match(stripped):
            now = _timestamp(stamp.group(1))
        elif rule := re.match(r"(?:local)?rule (\w+):$", stripped):
            current = {"rule": rule.group(1), "threads": 1, "start": now}
        elif current and stripped.startswith("jobid:"):
            jobs[int(stripped.split()[1])] = current
        elif current and stripped.startswith("threads:"):
            current["threads"] = int(stripped.split()[1])
        elif (finished := re.match(r"Finished jobid: (\d+)", stripped)) and int(
                finished.group(1)) in jobs:
            jobs[int(finished.group(1))]["end"] = now
    rows = [job for job in jobs.values() if job.get("end") is not None]
    return pd.DataFrame(rows, columns=["rule", "threads", "start", "end"])


def core_allocation(intervals: pd.DataFrame) -> float:
    """Core-seconds the scheduler handed out: Σ threads × (end − start)."""
    seconds = (intervals["end"] - intervals["start"]).dt.total_seconds()
    return float((intervals["threads"] * seconds).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", nargs="?", default=".", type=Path)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--log", type=Path)
    args = parser.parse_args()
    jobs = read_jobs(args.workdir)
    print(jobs.sort_values("cpu_s", ascending=False).head(args.top).to_string(index=False))
    print()
    by_group = jobs.groupby("group")[["wall_s", "cpu_s"]].sum()
    print(by_group.sort_values("cpu_s", ascending=False).round(0).to_string())
    from_logs = int((jobs.cpu_source == "log").sum())
    print(f"\n{len(jobs)} jobs: Σ wall {jobs.wall_s.sum():.0f} s (benchmarked jobs), "
          f"Σ CPU {jobs.cpu_s.sum():.0f} s ({from_logs} from job logs), "
          f"Σ CPU / {args.cores} cores = {jobs.cpu_s.sum() / args.cores / 60:.1f} min")
    if args.log:
        elapsed = elapsed_seconds(args.log)
        print(f"elapsed: {elapsed / 60:.1f} min" if elapsed else "elapsed: not in the log")
        intervals = job_intervals(args.log)
        if elapsed and len(intervals):
            print(f"cores: {args.cores} × {elapsed:.0f} s = {args.cores * elapsed:.0f} core-s; "
                  f"allocated {core_allocation(intervals):.0f}; used (Σ CPU) "
                  f"{jobs.cpu_s.sum():.0f}")


if __name__ == "__main__":
    main()
