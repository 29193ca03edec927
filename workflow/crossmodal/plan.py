"""What an experiment config will embed and train, before anything runs (the `plan` target).

Three tables from the config and the data on disk, no model loaded:

* datasets — pairs per dataset: exact when its ``pairs.parquet`` is written; otherwise counted
  from the data tree where that is cheap (COCO caption annotations, ImageNet-style class
  folders, toyworld's configured sizes), else the configured ``max_pairs`` as an upper bound;
* embeddings — every (encoder, dataset) the workflow embeds, its width d (the toy config,
  open_clip's bundled model config, or the local Hugging Face config) and its size on disk,
  pairs × 2 × d × 4 bytes (image and text rows of float32);
* dictionaries — every trained dictionary with its K = expansion · d, training pairs, epochs and
  optimizer steps, epochs · ⌊pairs / batch⌋, seed replicas included.

Given a table of measured per-unit costs (``unit_costs``: pairs/s per encoder architecture,
steps/s per dictionary shape, each on a named device), both tables also get the hours those
rates predict, and the plan ends with the totals and the measurements it used.

Which (encoder, dataset) pairs are embedded and which dictionaries are trained follow ``all``; a
test compares both with the jobs of a dry run for the default and both experiment configs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from crossmodal.config import dataset_splits
from crossmodal.data.source import IMAGE_SUFFIXES
from crossmodal.unit_costs import dictionary_key, encoder_key, with_hours

BYTES_PER_VALUE = 4  # float32
HOURS_HEADING = ("Estimated hours (forward passes and optimizer steps only; decoding, metrics and "
                 "case studies not counted):")


def embedded_datasets(config: Mapping) -> set[tuple[str, str]]:
    """(encoder, dataset) of every embeddings file ``all`` builds: every encoder on every
    dataset (each restricted to the encoder's ``extract.splits`` when set)."""
    return {(encoder, dataset) for encoder in config["encoders"] for dataset in config["datasets"]}


def _count_coco(block: Mapping) -> int | None:
    split = block.get("split", "val")
    path = Path(block["root"]) / "annotations" / f"captions_{split}2017.json"
    if not path.is_file():
        return None
    return len(json.loads(path.read_text())["annotations"])


def _count_imagefolder(block: Mapping) -> int | None:
    root = Path(block["root"])
    if not root.is_dir():
        return None
    return sum(1 for path in root.glob("*/*") if path.suffix.lower() in IMAGE_SUFFIXES)


def dataset_pairs(name: str, block: Mapping, results: Path) -> tuple[float, str]:
    """(pairs, how they were found) of one dataset (module docstring); (NaN, reason) when
    neither the pairs file nor a cheap count nor ``max_pairs`` gives it."""
    written = results / "data" / name / "pairs.parquet"
    if written.is_file():
        return float(pq.ParquetFile(written).metadata.num_rows), "pairs.parquet"
    kind = block.get("kind")
    if kind == "toyworld":  # every split, and a source and a target image per edit
        sizes = (block["n_train"] + block["n_test"] + block["n_shifted"]
                 + 2 * block.get("n_edits", 0))
        return float(sizes), "config sizes"
    counted = {"coco": _count_coco, "imagefolder": _count_imagefolder}.get(kind)
    count = counted(block) if counted else None
    if "max_pairs" in block:
        bound = float(block["max_pairs"])
        return (min(float(count), bound), "counted, capped") if count else (bound, "≤ max_pairs")
    if count is not None:
        return float(count), "counted"
    return float("nan"), "unknown until indexed"


def split_pairs(name: str, block: Mapping, split: str, results: Path) -> float:
    """Pairs of one split: counted in the written pairs file, toyworld's ``n_<split>``, else the
    dataset's pairs (``dataset_pairs``, an upper bound)."""
    written = results / "data" / name / "pairs.parquet"
    if written.is_file():
        splits = pq.read_table(written, columns=["split"]).column("split").to_pylist()
        return float(sum(value == split for value in splits))
    if block.get("kind") == "toyworld" and f"n_{split}" in block:
        return float(block[f"n_{split}"])
    return dataset_pairs(name, block, results)[0]


def encoder_width(spec: Mapping, config: Mapping) -> float:
    """Embedding width d of an encoder block, NaN when its config is not on this machine."""
    backend = spec["backend"]
    if backend == "toy":
        return float(config["toy_architecture"]["embed_dim"])
    if backend == "open_clip":
        import open_clip

        if spec.get("model_config"):
            path = Path(spec["model_config"])
            return float(json.loads(path.read_text())["embed_dim"]) if path.is_file() else math.nan
        model = open_clip.get_model_config(spec["name"])
        return float(model["embed_dim"]) if model else math.nan
    from transformers import AutoConfig

    try:
        model = AutoConfig.from_pretrained(spec["model"], local_files_only=True,
                                           cache_dir=spec.get("cache_dir"))
    except (OSError, ValueError):
        return math.nan
    width = getattr(model, "projection_dim", None) or model.text_config.hidden_size
    return float(width)


def embeddings_table(config: Mapping, results: Path) -> pd.DataFrame:
    """One row per embedded (encoder, dataset): pairs, how found, d and bytes on disk."""
    rows = []
    widths = {name: encoder_width(spec, config) for name, spec in config["encoders"].items()}
    for encoder, dataset in sorted(embedded_datasets(config)):
        block = config["datasets"][dataset]
        pairs, source = dataset_pairs(dataset, block, results)
        restricted = config.get("extract", {}).get("splits", {}).get(encoder)
        if restricted:  # only the encoder's splits that the dataset has
            kept = [split for split in restricted if split in (dataset_splits(block) or [])]
            pairs = sum(split_pairs(dataset, block, split, results) for split in kept)
        rows.append({"encoder": encoder, "dataset": dataset, "pairs": pairs, "pairs_from": source,
                     "splits": ",".join(restricted) if restricted else "all",
                     "d": widths[encoder],
                     "gigabytes": pairs * 2 * widths[encoder] * BYTES_PER_VALUE / 1e9})
    return pd.DataFrame(rows)


def trained_dictionaries(config: Mapping) -> list[tuple[str, str, int]]:
    """(encoder, dictionary, seed) of every dictionary training run: the targets, the paper B
    table 3/4 columns, and their replicas under every ``paper_b.stability_seeds`` seed."""
    runs = {(e, m) for e, methods in config.get("dictionary_targets", {}).items()
            for m in methods}
    paper_b = config.get("paper_b", {})
    replicated = set()
    for table in ("table3", "table4"):
        block = paper_b.get(table)
        if block and (table == "table3" or block.get("in_all")):
            replicated |= {(block["encoder"], m) for m in block["columns"].values()}
    runs |= replicated
    seed = config.get("seed", 0)
    found = [(e, m, seed) for e, m in sorted(runs)]
    found += [(e, m, s) for e, m in sorted(replicated) for s in paper_b.get("stability_seeds", [])]
    return found


def dictionaries_table(config: Mapping, embeddings: pd.DataFrame, results: Path
                       ) -> pd.DataFrame:
    """One row per training run (``identity`` trains nothing and is left out): architecture,
    K, training pairs (the training split's, or the dictionary's own ``pairs``), epochs and
    optimizer steps, epochs · ⌊pairs / batch⌋ as the trainer counts them (an upper bound under
    a stopping rule)."""
    training = config.get("dictionary_training", {})
    width = embeddings.drop_duplicates("encoder").set_index("encoder")["d"]
    pairs = math.nan
    if training:
        dataset = training["dataset"]
        pairs = split_pairs(dataset, config["datasets"][dataset], training["split"], results)
    rows = []
    for encoder, method, seed in trained_dictionaries(config):
        spec = config["dictionaries"][method]
        if spec["architecture"] == "identity":
            continue
        own = min(pairs, spec.get("pairs", math.inf))
        epochs = spec.get("epochs", training.get("epochs"))
        batch = spec.get("batch_size", training.get("batch_size"))
        rows.append({"encoder": encoder, "dictionary": method, "seed": seed,
                     "architecture": spec["architecture"],
                     "K": spec.get("expansion", 1) * width.get(encoder, math.nan),
                     "pairs": own, "epochs": epochs, "batch_size": batch,
                     "steps": math.nan if math.isnan(own)
                     else epochs * max(1, math.floor(own / batch))})
    return pd.DataFrame(rows)


def with_costs(config: Mapping, embeddings: pd.DataFrame, dictionaries: pd.DataFrame,
               costs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both tables with the rate each row's key has in ``costs`` and the hours it predicts."""
    encoder_keys = embeddings["encoder"].map(
        lambda name: encoder_key(config["encoders"][name]))
    width = embeddings.drop_duplicates("encoder").set_index("encoder")["d"]
    dictionary_keys = pd.Series(
        [dictionary_key(config["dictionaries"][row.dictionary], width[row.encoder],
                        row.batch_size) if not math.isnan(width[row.encoder]) else ""
         for row in dictionaries.itertuples()], dtype=object)
    return (with_hours(embeddings, encoder_keys, "pairs", costs, "embed"),
            with_hours(dictionaries, dictionary_keys, "steps", costs, "train"))


def _hours_line(name: str, table: pd.DataFrame) -> str:
    unmeasured = int(table["rate_per_s"].isna().sum())
    line = f"{name}: {table['hours'].sum():,.2f} h at the measured rates"
    return line + (f" ({unmeasured} rows without a measurement)" if unmeasured else "")


def plan_text(config: Mapping, results: Path, costs: pd.DataFrame | None = None) -> str:
    """The printed plan: the two tables and their totals; with ``costs``, the hours too."""
    embeddings = embeddings_table(config, results)
    dictionaries = dictionaries_table(config, embeddings, results)
    if costs is not None:
        embeddings, dictionaries = with_costs(config, embeddings, dictionaries, costs)
    total = embeddings["gigabytes"].sum(min_count=1)
    lines = ["Embeddings (float32, image and text rows):",
             embeddings.to_string(index=False, float_format=lambda x: f"{x:,.3g}"),
             f"total on disk: {total:,.2f} GB"
             + (" (some sizes unknown)" if embeddings["gigabytes"].isna().any() else ""),
             "", f"Dictionaries to train ({len(dictionaries)} runs):",
             dictionaries.to_string(index=False, float_format=lambda x: f"{x:,.4g}")]
    if costs is not None:
        lines += ["", HOURS_HEADING, _hours_line("embedding", embeddings), _hours_line("training", dictionaries),
                  "measurements used:",
                  costs.to_string(index=False, float_format=lambda x: f"{x:,.4g}")]
    return "\n".join(lines)
