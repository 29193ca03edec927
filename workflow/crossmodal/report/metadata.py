"""Run metadata for the report: config hash, package versions, wall time per rule."""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Mapping, Sequence
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
    """Wall time (the ``s`` column of snakemake's benchmark TSV) per benchmark file."""
    return {Path(p).parent.name + "/" + Path(p).stem: float(pd.read_csv(p, sep="\t")["s"].iloc[0])
            for p in paths}


def run_metadata(config: Mapping, benchmark_paths: Sequence[str | Path]) -> dict[str, str]:
    metadata = {"config hash": config_hash(config)}
    metadata.update({f"version {k}": v for k, v in package_versions().items()})
    metadata.update({f"wall time {k}": f"{s:.1f} s"
                     for k, s in benchmark_seconds(benchmark_paths).items()})
    return metadata
