"""Checks a real run can make before any job starts: that every dataset's files are where the
config says and every encoder's weights are on this machine. Run when the workflow is parsed,
so ``snakemake -n`` reports them, one line each, instead of a job failing hours into a run.

Nothing here reads images or builds a model: a data root is checked to exist, the first shard
of every webdataset pattern to be a plain tar, an open_clip architecture and tag to be known and
its weights to be in the cache, a transformers model to be a directory or a cached hub name.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from crossmodal.errors import CrossmodalError

ROOT_KEYS = {"coco": ("root",), "imagefolder": ("root", "class_names"), "fashioniq": ("root",),
             "table": ("path",)}


def _shard_patterns(block: Mapping) -> list:
    patterns = []
    if block.get("shards"):
        patterns.append(block["shards"])
    patterns += list((block.get("splits") or {}).values())
    return patterns


def dataset_problems(name: str, block: Mapping, base: Path) -> Iterator[str]:
    """One line per missing file or directory of the dataset ``name`` (paths relative to
    ``base``, the working directory)."""
    kind = block.get("kind")
    where = f"datasets.{name}"
    for key in ROOT_KEYS.get(kind, ()):
        value = block.get(key)
        if value is not None and not (base / Path(value).expanduser()).exists():
            yield f"{where}.{key}: {value} does not exist; fix the path (or `paths:`)"
    if kind == "webdataset":
        from crossmodal.data.webdataset_tars import expand_shards

        for pattern in _shard_patterns(block):
            first = pattern if isinstance(pattern, str) else pattern[0]
            try:
                expand_shards(first, base, where)
            except CrossmodalError as error:
                yield f"{where}: {error}"


def encoder_problems(name: str, block: Mapping) -> Iterator[str]:
    """One line when the encoder ``name``'s architecture, tag or weights cannot be used here."""
    backend = block.get("backend")
    try:
        if backend == "open_clip":
            from crossmodal.encoders.openclip_backend import resolve_weights

            resolve_weights(block["name"], block.get("pretrained"), block.get("cache_dir"),
                            block.get("model_config"))
        elif backend == "transformers":
            from crossmodal.encoders.transformers_backend import check_offline

            check_offline(block["model"], block.get("cache_dir"))
    except ValueError as error:  # MissingWeightsError, an unknown architecture or tag
        yield f"encoders.{name}: {error}"


def preflight_problems(config: Mapping, base: str | Path = ".") -> list[str]:
    """Every problem of ``config``'s datasets and encoders, one line each (empty: none)."""
    base = Path(base)
    problems = [line for name, block in config.get("datasets", {}).items()
                for line in dataset_problems(name, block, base)]
    problems += [line for name, block in config.get("encoders", {}).items()
                 for line in encoder_problems(name, block)]
    return problems
