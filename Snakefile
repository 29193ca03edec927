# crossmodal: dissect the shared embedding space of vision–language models.
# `snakemake --cores 8 all` runs the embedded default (toyworld); see README.md.
from snakemake.utils import min_version

min_version("8.0")


configfile: "config/config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/encoders.smk"
include: "rules/embeddings.smk"
include: "rules/dictionaries.smk"
include: "rules/analysis.smk"
include: "rules/interventions.smk"
include: "rules/monosemanticity.smk"
include: "rules/case_studies.smk"
include: "rules/report.smk"


rule all:
    input:
        all_targets(),
    default_target: True


rule case_studies:
    """Paper A's three case studies and only what they need: one toy encoder, its raw
    dimensions and its Multimodal SAE."""
    input:
        case_study_targets(),
