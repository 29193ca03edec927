"""Benchmark: how well one dictionary recovers toyworld's concepts, and its training CPU time.

    python benchmarks/dictionary_concept_recovery.py EMBEDDINGS.parquet 'SPEC' [--beta B]

Trains one dictionary (one torch thread) on the train split of an encoder's embeddings
(``results/embeddings/<encoder>/toyworld.parquet``) with SPEC, a JSON dictionary block shaped
like one entry of ``dictionaries:`` in ``config/config.yaml`` plus any ``dictionary_training``
override (``epochs``, ``lr``, …), and β (default 0.1, the default run's ``auto`` choice), then
prints, as ``latent_features`` and ``groundtruth_recovery`` compute them on 2 000 test pairs:

* each image-only and text-only concept's recovery AUC (its best latent on the rows of its
  modality), their mean and minimum, and how many reach 0.8;
* the mean recovery AUC of the bimodal concepts, the final R², the share of latents active on
  the test pairs and the training CPU seconds.

These runs are the dictionary-side measurements behind docs/toyworld_encoders.md.
"""

from __future__ import annotations

import argparse
import json
import time

import pandas as pd
import torch

from crossmodal.dictionaries import build_dictionary
from crossmodal.dictionaries.evaluate import concept_aucs
from crossmodal.dictionaries.settings import training_settings
from crossmodal.dictionaries.trainer import train_dictionary
from crossmodal.modality.groundtruth import concept_recovery
from crossmodal.store import read_embeddings

DEFAULT_TRAINING = {"epochs": 5, "batch_size": 512, "lr": 5e-4, "grad_clip": 1.0,
                    "alignment": "paper"}


def recovery(model, test, pairs: int = 2000, seed: int = 0):
    """The per-concept recovery table (``groundtruth.concept_recovery``) of ``model`` on a
    seeded subsample of the test split, plus the share of latents active on it."""
    scored = concept_aucs(model, test, pairs, seed)
    n_latents = scored.image_codes.shape[1]
    no_groups = {"group": [None] * n_latents, "mds_group": [None] * n_latents}
    table = concept_recovery(scored.aucs, scored.concepts, scored.families, scored.modalities,
                             pd.DataFrame(no_groups))
    active = ((scored.image_codes != 0).any(0) | (scored.text_codes != 0).any(0)).mean()
    return table, float(active)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("embeddings")
    parser.add_argument("spec", help="JSON dictionary block, e.g. "
                        '\'{"architecture": "mp", "expansion": 8, "k": 20}\'')
    parser.add_argument("--beta", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(arguments.seed)
    spec = json.loads(arguments.spec)
    embeddings = read_embeddings(arguments.embeddings)
    train, test = embeddings.split("train"), embeddings.split("test")
    settings = training_settings(DEFAULT_TRAINING, spec, arguments.beta, arguments.seed, "cpu")
    model = build_dictionary(spec, train.image.shape[1], seed=arguments.seed)
    start = time.process_time()
    log = train_dictionary(model, train.image, train.text, settings)
    seconds = time.process_time() - start
    model.eval()
    table, active = recovery(model, test)
    unimodal = table[table["modality"].isin(["image", "text"])]
    for _, row in unimodal.iterrows():
        print(f"  {row['concept']:<24} {row['modality']:<6} {row['auc']:.3f}")
    by_kind = {kind: table.loc[table["modality"] == kind, "auc"] for kind in
               ("image", "text", "bimodal")}
    print(f"{arguments.spec} β={arguments.beta}: {len(log)} steps, {seconds:.0f} CPU-s, "
          f"R² {log['r2'].iloc[-1]:.3f}, active latents {active:.2f}; image-only mean/min "
          f"{by_kind['image'].mean():.3f}/{by_kind['image'].min():.3f}, text-only "
          f"{by_kind['text'].mean():.3f}/{by_kind['text'].min():.3f}, bimodal "
          f"{by_kind['bimodal'].mean():.3f}; unimodal ≥ 0.8: "
          f"{int((unimodal['auc'] >= 0.8).sum())} of {len(unimodal)}")


if __name__ == "__main__":
    main()
