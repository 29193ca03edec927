"""Rule latent_features: one row per latent of a dictionary (energies, μ, MDS, groups, and the
best-matching toyworld concept) plus one row per ground-truth concept (its best latent)."""

import numpy as np
import pandas as pd

from crossmodal import runtime
from crossmodal.dictionaries.checkpoint import load_with_embeddings
from crossmodal.dictionaries.evaluate import encode_in_batches, paired_codes
from crossmodal.modality.features import LatentStatistics
from crossmodal.modality.groundtruth import best_latents, concept_auc, latent_concepts
from crossmodal.store import write_frame
from crossmodal.world.concepts import FAMILY_BY_NAME, indicator_families

CONCEPT_COLUMNS = ["concept", "family", "modality", "latent", "auc", "group", "mds_group",
                   "right_group", "right_mds_group"]


def latent_table(model, embeddings, tau: float, batch_size: int) -> pd.DataFrame:
    statistics = LatentStatistics(model.n_latents, runtime.device())
    for _, _, image_codes, text_codes in paired_codes(model, embeddings.image, embeddings.text,
                                                      batch_size):
        statistics.add(image_codes, text_codes)
    return statistics.frame(tau)


def groundtruth(model, embeddings, features: pd.DataFrame, pairs: int, seed: int):
    """AUC of every latent for every ``gt_*`` concept on a seeded subsample of pairs."""
    family_of = indicator_families()
    concepts = [c for c in embeddings.pairs.columns if c in family_of]
    if not concepts:
        return features, pd.DataFrame(columns=CONCEPT_COLUMNS)
    sample = embeddings.subsample(pairs, seed)
    codes = np.concatenate([encode_in_batches(model, sample.image),
                            encode_in_batches(model, sample.text)])
    labels = np.tile(sample.pairs[concepts].to_numpy(dtype=bool), (2, 1))
    auc = concept_auc(codes, labels)
    modality_of = {name: family.modality for name, family in FAMILY_BY_NAME.items()}
    per_concept = best_latents(auc, concepts, family_of, modality_of, features)
    return pd.concat([features, latent_concepts(auc, concepts)], axis=1), per_concept


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
