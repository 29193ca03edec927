"""Rule gap_illustration: paper B figure 24, the gap-removal methods on synthetic 3-D points."""

from crossmodal import runtime
from crossmodal.interventions.gap_removal import remove_gap
from crossmodal.interventions.illustration import synthetic_modalities, synthetic_reference
from crossmodal.metrics.gap import ood_score
from crossmodal.report.intervention_figures import plot_gap_illustration

METHODS = ("reconstructed", "centre", "bimodal", "random", "shift")


def main(snakemake):
    seed = snakemake.params.seed
    runtime.configure(snakemake.threads, seed)
    inputs = synthetic_modalities(seed=seed)
    reference = synthetic_reference(inputs, seed)
    clouds = {method: remove_gap(method, inputs, reference) for method in METHODS}
    scores = {method: ood_score(text, image) for method, (image, text) in clouds.items()}
    print("OOD score of texts against images:", scores, file=runtime.log_stream())
    plot_gap_illustration(clouds, scores, snakemake.output.figure)


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
