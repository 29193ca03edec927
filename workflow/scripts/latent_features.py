"""Rule latent_features: one row per latent of a dictionary (energies, μ, MDS, groups with the
MDS grouping's flag, the best-matching toyworld concept on image rows, on caption rows and the
better of the two) plus one row per ground-truth concept (its best latent on each modality that
shows it)."""

import pandas as pd

from crossmodal import runtime
from crossmodal.dictionaries.checkpoint import load_with_embeddings
from crossmodal.dictionaries.evaluate import concept_aucs, paired_codes
from crossmodal.modality.features import LatentStatistics
from crossmodal.modality.groundtruth import concept_recovery, latent_modality_auc
from crossmodal.store import write_frame

CONCEPT_COLUMNS = ["concept", "family", "modality",
                   *(f"{c}_{m}" for m in ("image", "text")
                     for c in ("latent", "auc", "group", "mds_group")),
                   "auc", "right_group", "right_mds_group"]


def latent_table(model, embeddings, tau: float, batch_size: int) -> pd.DataFrame:
    statistics = LatentStatistics(model.n_latents, runtime.device())
    for _, _, image_codes, text_codes in paired_codes(model, embeddings.image, embeddings.text,
                                                      batch_size):
        statistics.add(image_codes, text_codes)
    return statistics.frame(tau)  # a degenerate MDS grouping warns (into the log), is flagged


def groundtruth(model, embeddings, features: pd.DataFrame, pairs: int, seed: int):
    """AUC of every latent for every ``gt_*`` concept on a seeded subsample of pairs, on image
    rows and on caption rows (``modality_aucs``), read per latent (``latent_modality_auc``)
    and per concept (``concept_recovery``)."""
    scored = concept_aucs(model, embeddings, pairs, seed)
    if scored is None:
        return features, pd.DataFrame(columns=CONCEPT_COLUMNS)
    per_latent = latent_modality_auc(scored.aucs, scored.concepts)
    per_concept = concept_recovery(scored.aucs, scored.concepts, scored.families,
                                   scored.modalities, features)
    return pd.concat([features, per_latent], axis=1), per_concept[CONCEPT_COLUMNS]

def main(snakemake):
    analysis, seed = snakemake.params.analysis, snakemake.params.seed
    runtime.configure(snakemake.threads, seed)
    model, _, embeddings = load_with_embeddings(snakemake.input.model,
                                                snakemake.input.embeddings, analysis["split"])
    model.to(runtime.device())
    batch_size = snakemake.config["analysis"]["batch_size"]  # a performance knob, no param
    with runtime.step(f"energies, μ and MDS groups of every latent on {len(embeddings.image)} "
                      "pairs"):
        features = latent_table(model, embeddings, analysis["tau"], batch_size)
    model.cpu()
    with runtime.step("ground-truth concept scoring"):
        features, per_concept = groundtruth(model, embeddings, features,
                                            analysis["groundtruth_pairs"], seed)
    metadata = {"encoder": snakemake.wildcards.encoder, "method": snakemake.wildcards.method,
                "dataset": snakemake.wildcards.dataset, "split": analysis["split"],
                "tau": str(analysis["tau"])}
    write_frame(features, snakemake.output.features, metadata)
    write_frame(per_concept.assign(encoder=metadata["encoder"], method=metadata["method"]),
                snakemake.output.concepts, metadata)


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
