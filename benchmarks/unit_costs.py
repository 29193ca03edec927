"""Benchmark: the per-unit costs the plan turns into hours (``crossmodal.unit_costs``).

    python benchmarks/unit_costs.py --configfile config/experiments/paperB-six-models.yaml \
        my_paths.yaml [--random-init] [--steps 20] [--batches 3] [--out unit_costs.csv]

For every encoder of the layered config (on top of config/config.yaml unless the files replace
it), the pairs/s of its two towers' forward pass at ``extract.batch_size``; for every distinct
dictionary shape the config trains (architecture and arguments, d, K, batch), the optimizer
steps/s of ``train_dictionary``. Runs on CUDA when present, else on the CPU with every core.
``--random-init`` builds open_clip encoders without their weights (the cost is the
architecture's); encoders whose weights or configs are not on this machine are reported and
skipped. Toy encoders are timed from their checkpoint under results/encoders/ when it exists.

Then pass the table to the plan: ``snakemake --cores 1 plan --config unit_costs=<csv>``.
"""

from __future__ import annotations

import argparse
import datetime
import math
import sys
from pathlib import Path

import pandas as pd
import torch

from crossmodal.config_layers import load_layered
from crossmodal.dictionaries.settings import training_settings
from crossmodal.encoders import load_encoder
from crossmodal.errors import CrossmodalError
from crossmodal.plan import dictionaries_table, embeddings_table
from crossmodal.unit_costs import (
    COLUMNS,
    device_name,
    dictionary_key,
    embedding_rate,
    encoder_key,
    training_rate,
)

ROOT = Path(__file__).resolve().parents[1]


def _encoder(name: str, spec: dict, random_init: bool):
    if spec["backend"] == "open_clip" and random_init:
        spec = {**spec, "pretrained": None, "model_config": None}
    return load_encoder(spec, Path("results/encoders") / name / "model.pt")


def embedding_rows(config: dict, device: str, batches: int, random_init: bool,
                   batch_size: int | None) -> list[dict]:
    batch_size = batch_size or config.get("extract", {}).get("batch_size", 256)
    rows, seen = [], set()
    for name, spec in config["encoders"].items():
        key = encoder_key(spec)
        if key in seen:
            continue
        seen.add(key)
        try:
            encoder = _encoder(name, spec, random_init).to(device)
        except (CrossmodalError, OSError, ValueError) as error:
            print(f"skipped {name} ({key}): {str(error).splitlines()[0]}", file=sys.stderr)
            continue
        rate = embedding_rate(encoder, batch_size, batches, device)
        print(f"embed {key}: {rate:,.1f} pairs/s (batch {batch_size})", flush=True)
        rows.append({"unit": "embed", "key": key, "rate_per_s": rate, "batch_size": batch_size})
        del encoder
    return rows


def training_rows(config: dict, device: str, steps: int, widths: dict[str, int]) -> list[dict]:
    embeddings = embeddings_table(config, Path("results"))
    width = embeddings.drop_duplicates("encoder").set_index("encoder")["d"]
    width.update(pd.Series(widths, dtype=float))
    embeddings["d"] = embeddings["encoder"].map(width)
    defaults = config.get("dictionary_training", {})
    rows, seen = [], set()
    for row in dictionaries_table(config, embeddings, Path("results")).itertuples():
        d = width[row.encoder]
        if math.isnan(d):
            print(f"skipped {row.dictionary} on {row.encoder}: its width is unknown here",
                  file=sys.stderr)
            continue
        spec = config["dictionaries"][row.dictionary]
        key = dictionary_key(spec, d, row.batch_size)
        if key in seen:
            continue
        seen.add(key)
        settings = training_settings(defaults, spec, 0.0, config.get("seed", 0), device)
        rate = training_rate(spec, int(d), settings, steps)
        print(f"train {key}: {rate:,.2f} steps/s", flush=True)
        rows.append({"unit": "train", "key": key, "rate_per_s": rate,
                     "batch_size": row.batch_size})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configfile", nargs="*", default=[],
                        help="layered on config/config.yaml (none: the default toyworld run)")
    parser.add_argument("--random-init", action="store_true")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per dictionary")
    parser.add_argument("--batches", type=int, default=3, help="timed batches per encoder")
    parser.add_argument("--out", default="results/plan/unit_costs.csv")
    parser.add_argument("--skip", choices=["embed", "train"], action="append", default=[])
    parser.add_argument("--batch-size", type=int, help="instead of extract.batch_size")
    parser.add_argument("--width", nargs="*", default=[], metavar="ENCODER=D",
                        help="widths of encoders whose config is not on this machine")
    arguments = parser.parse_args()
    config = load_layered(arguments.configfile, ROOT / "config" / "config.yaml")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    rows = []
    if "embed" not in arguments.skip:
        rows += embedding_rows(config, device, arguments.batches, arguments.random_init,
                               arguments.batch_size)
    if "train" not in arguments.skip:
        widths = {name: int(d) for name, d in (w.split("=") for w in arguments.width)}
        rows += training_rows(config, device, arguments.steps, widths)
    table = pd.DataFrame(rows).assign(device=device_name(device),
                                      measured=datetime.date.today().isoformat())
    out = Path(arguments.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.is_file():  # keep earlier measurements of other keys
        earlier = pd.read_csv(out)
        table = pd.concat([earlier[~earlier["key"].isin(table["key"])], table])
    table[COLUMNS].to_csv(out, index=False)
    print(f"wrote {out} ({len(table)} measurements)")


if __name__ == "__main__":
    main()
