"""Checks a real run can make before any job starts: that every dataset's files are where the
config says, and that every encoder's and every case study's weights (paper A's image embedder,
the attribute labeller, the LLaVA victim, Stable unCLIP, its reference images) are on this
machine. Run when the workflow is parsed, so ``snakemake -n`` reports them, one line each,
instead of a job failing hours into a run.

Nothing here reads images or builds a model: a data root is checked to exist, the first shard
of every webdataset pattern to be a plain tar, an open_clip architecture and tag to be known and
its weights to be in the cache, a transformers or diffusers model to be a directory or a cached
hub name (its ``config.json`` / ``model_index.json``).
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


# Hub models the case studies and paper A's scores load with `local_files_only`: (where the
# block is in the config, the key naming the model, the file a complete copy holds).
HUB_MODELS = (
    (("monosemanticity", "image_embedder"), "model", "config.json"),
    (("case_studies", "attribute", "labeller"), "model", "config.json"),
    (("case_studies", "adversarial", "victim"), "model", "config.json"),
    (("case_studies", "adversarial", "victim", "judge"), "model", "config.json"),
    (("case_studies", "text_to_image", "unclip"), "pipeline", "model_index.json"),
)


def _block(config: Mapping, path: tuple[str, ...]) -> Mapping:
    """The config block at ``path``; {} where any level is missing or not a mapping."""
    for key in path:
        value = config.get(key)
        config = value if isinstance(value, Mapping) else {}
    return config


def hub_model_present(model: str, marker: str, base: Path) -> bool:
    """Whether ``model`` is a directory holding ``marker`` or a hub name whose ``marker`` is in
    the default Hugging Face cache (what ``from_pretrained(…, local_files_only=True)`` reads)."""
    directory = base / Path(model).expanduser()
    if directory.is_dir():
        return (directory / marker).is_file()
    from crossmodal.encoders.transformers_backend import in_hub_cache

    return in_hub_cache(model, marker)


def case_study_problems(config: Mapping, base: Path) -> Iterator[str]:
    """One line per configured hub model that is not on this machine, and per missing
    reference image of case study 3."""
    for path, key, marker in HUB_MODELS:
        model = _block(config, path).get(key)
        if model and not hub_model_present(str(model), marker, base):
            yield (f"{'.'.join(path)}.{key}: {model} is neither a directory with {marker} nor "
                   f"in the Hugging Face cache; download it (`hf download {model}`) or fix the path")
    references = _block(config, ("case_studies", "text_to_image")).get("references") or []
    for index, reference in enumerate(references):
        image = reference.get("image") if isinstance(reference, Mapping) else None
        if image and not (base / Path(image).expanduser()).is_file():
            yield (f"case_studies.text_to_image.references[{index}].image: {image} does not "
                   "exist; fix the path (or `paths:`)")


def preflight_problems(config: Mapping, base: str | Path = ".") -> list[str]:
    """Every problem of ``config``'s datasets, encoders and case-study weights, one line each
    (empty: none)."""
    base = Path(base)
    problems = [line for name, block in config.get("datasets", {}).items()
                for line in dataset_problems(name, block, base)]
    problems += [line for name, block in config.get("encoders", {}).items()
                 for line in encoder_problems(name, block)]
    return problems + list(case_study_problems(config, base))
