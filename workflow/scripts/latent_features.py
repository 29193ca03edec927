"""Rule latent_features: one row per latent of a dictionary (energies, μ, MDS, groups with the
MDS grouping's flag, the best-matching toyworld concept pooled over both modalities and per
modality) plus one row per ground-truth concept (its best latent)."""

import numpy as np
import pandas as pd

from crossmodal import runtime
from crossmodal.dictionaries.checkpoint import load_with_embeddings
from crossmodal.dictionaries.evaluate import encode_in_batches, paired_codes
from crossmodal.modality.features import LatentStatistics
from crossmodal.modality.groundtruth import (
    best_latents,
    concept_auc,
    latent_concepts,
    latent_modality_auc,
)
from crossmodal.store import write_frame
from crossmodal.world.concepts import FAMILY_BY_NAME, indicator_families

CONCEPT_COLUMNS = ["concept", "family", "modality", "latent", "auc", "group", "mds_group",
                   "right_group", "right_mds_group"]


def latent_table(model, embeddings, tau: float, batch_size: int) -> pd.DataFrame:
    statistics = LatentStatistics(model.n_latents, runtime.device())
    for _, _, image_codes, text_codes in paired_codes(model, embeddings.image, embeddings.text,
                                                      batch_size):
        statistics.add(image_codes, text_codes)
    return statistics.frame(tau)  # a degenerate MDS grouping warns (into the log), is flagged


def groundtruth(model, embeddings, features: pd.DataFrame, pairs: int, seed: int):
    """AUC of every latent for every ``gt_*`` concept on a seeded subsample of pairs: pooled
    over image and caption rows (best latent per concept) and per modality (best concept per
    latent, ``latent_modality_auc``)."""
    family_of = indicator_families()
    concepts = [c for c in embeddings.pairs.columns if c in family_of]
    if not concepts:
        return features, pd.DataFrame(columns=CONCEPT_COLUMNS)
    sample = embeddings.subsample(pairs, seed)
    image_codes = encode_in_batches(model, sample.image)
    text_codes = encode_in_batches(model, sample.text)
    pair_labels = sample.pairs[concepts].to_numpy(dtype=bool)
    auc = concept_auc(np.concatenate([image_codes, text_codes]), np.tile(pair_labels, (2, 1)))
    modality_of = {name: family.modality for name, family in FAMILY_BY_NAME.items()}
    per_concept = best_latents(auc, concepts, family_of, modality_of, features)
    per_modality = latent_modality_auc(image_codes, text_codes, pair_labels, concepts,
                                       [modality_of[family_of[c]] for c in concepts])
    return (pd.concat([features, latent_concepts(auc, concepts), per_modality], axis=1),
            per_concept)


def main(snakemake):
    analysis, seed = snakemake.params.analysis, snakemake.params.seed
    runtime.configure(snakemake.threads, seed)
    model, _, embeddings = load_with_embeddings(snakemake.input.model,
                                                snakemake.input.embeddings, analysis["split"])
    model.to(runtime.device())
    features = latent_table(model, embeddings, analysis["tau"], analysis["batch_size"])
    model.cpu()
    features, per_concept = groundtruth(model, embeddings, features,
                                        analysis["groundtruth_pairs"], seed)
    metadata = {"encoder": snakemake.wildcards.encoder, "method": snakemake.wildcards.method,
                "dataset": snakemake.wildcards.dataset, "split": analysis["split"],
                "tau": str(analysis["tau"])}
    write_frame(features, snakemake.output.features, metadata)
    write_frame(per_concept.assign(encoder=metadata["encoder"], method=metadata["method"]),
                snakemake.output.concepts, metadata)


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
