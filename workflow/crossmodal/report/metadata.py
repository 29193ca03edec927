"""Run metadata for the report: config hash, package versions, wall time per rule."""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Iterable, Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd

PACKAGES = ("crossmodal", "torch", "open_clip_torch", "snakemake", "numpy", "pandas", "pyarrow")


def config_hash(config: Mapping) -> str:
    """First 12 hex digits of the SHA-256 of the config as sorted JSON."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:12]


def package_versions(packages: Sequence[str] = PACKAGES) -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in packages:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def benchmark_seconds(paths: Sequence[str | Path]) -> dict[str, float]:
    """Wall time (the ``s`` column of snakemake's benchmark TSV) per benchmark file, keyed by the
    path. A file that is not a benchmark TSV stops with one line naming it."""
    seconds = {}
    for path in paths:
        try:
            frame = pd.read_csv(path, sep="\t")
            seconds[str(path)] = float(frame["s"].iloc[0])
        except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, KeyError,
                IndexError, ValueError) as error:
            raise ValueError(f"{path}: not a snakemake benchmark file ({type(error).__name__}: "
                             f"{error}); delete it and rerun its rule") from None
    return seconds


def rule_of(path: str | Path) -> str:
    """A rule label for a benchmark file with no known rule: its path below
    ``results/benchmarks/`` up to the first directory (``encoders/toyclip.tsv`` → ``encoders``)."""
    parts = Path(path).with_suffix("").parts
    below = parts[parts.index("benchmarks") + 1:] if "benchmarks" in parts else parts[-2:]
    return below[0] if below else Path(path).stem


def wall_time_per_rule(benchmarks: Mapping[str, str] | Sequence[str | Path]
                       ) -> dict[str, tuple[int, float]]:
    """Rule → (jobs, total wall seconds) over the benchmark files; ``benchmarks`` maps each file
    to its rule (as rule `report` passes them), or lists files (rule taken from the path)."""
    rules = (dict(benchmarks) if isinstance(benchmarks, Mapping)
             else {str(p): rule_of(p) for p in benchmarks})
    totals: dict[str, tuple[int, float]] = {}
    for path, seconds in benchmark_seconds(list(rules)).items():
        jobs, total = totals.get(rules[path], (0, 0.0))
        totals[rules[path]] = (jobs + 1, total + seconds)
    return dict(sorted(totals.items()))


def run_metadata(config: Mapping, benchmarks: Mapping[str, str] | Sequence[str | Path]
                 ) -> dict[str, str]:
    """Config hash, package versions and wall time per rule (jobs, sum over the rule's benchmark
    files), then the total over all of them."""
    metadata = {"config hash": config_hash(config)}
    metadata.update({f"version {k}": v for k, v in package_versions().items()})
    per_rule = wall_time_per_rule(benchmarks)
    metadata.update({f"wall time {rule}": f"{seconds:.1f} s ({jobs} job{'s' * (jobs != 1)})"
                     for rule, (jobs, seconds) in per_rule.items()})
    if per_rule:
        jobs = sum(j for j, _ in per_rule.values())
        seconds = sum(s for _, s in per_rule.values())
        metadata["wall time, all rules"] = f"{seconds:.1f} s ({jobs} jobs)"
    return metadata


SKIPPED_RULES = ("all", "report")
_UPSTREAM: dict[tuple, dict[str, str]] = {}


def _producer(rules: Iterable, target: str):
    """The rule (not in SKIPPED_RULES) whose output pattern matches ``target`` and the wildcards
    it gives, or None when no rule writes it (raw data, config files)."""
    for rule in rules:
        if rule.name not in SKIPPED_RULES and any(o.match(target) for o in rule.output):
            return rule, rule.get_wildcards(target)
    return None


def upstream_benchmarks(rules: Sequence, targets: Iterable[str]) -> dict[str, str]:
    """Benchmark file → rule name of every job that ``targets`` need (their own jobs included),
    found by walking snakemake's ``rules`` from outputs to inputs as its DAG does; files no rule
    writes end the walk. Rule `report` declares these as input: all wall times of the run, no
    cycle (the report itself is skipped). Cached per rule set and targets."""
    targets = tuple(str(t) for t in targets)
    key = (id(rules), targets)
    if key not in _UPSTREAM:
        benchmarks, seen, todo = {}, set(), list(targets)
        while todo:
            target = todo.pop()
            found = None if target in seen else _producer(rules, target)
            seen.add(target)
            if found is None:
                continue
            rule, wildcards = found
            if rule.benchmark:
                benchmarks[str(rule.expand_benchmark(wildcards))] = rule.name
            todo += [str(f) for f in rule.expand_input(wildcards)[0]]
        _UPSTREAM[key] = dict(sorted(benchmarks.items()))
    return _UPSTREAM[key]
