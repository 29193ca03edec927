"""Rule dictionary_metrics: paper B appendix E metrics of one dictionary, one CSV row, with the
half-width of each metric's 95 % interval ("<metric> ±", geometry/resampling.py)."""

import pandas as pd

from crossmodal import runtime
from crossmodal.dictionaries.checkpoint import load_dictionary, load_with_embeddings
from crossmodal.geometry.conventions import CONVENTIONS
from crossmodal.geometry.resampling import metric_half_widths
from crossmodal.geometry.stability import stability
from crossmodal.geometry.suite import dictionary_metrics
from crossmodal.report.tables import write_table


def main(snakemake):
    analysis, seed = snakemake.params.analysis, snakemake.params.seed
    runtime.configure(snakemake.threads, seed)
    model, facts, embeddings = load_with_embeddings(snakemake.input.model,
                                                    snakemake.input.embeddings, analysis["split"])
    model.to(runtime.device())
    # the configured convention names the plain columns; the other one is added, suffixed
    primary = snakemake.params.conventions
    batch_size = snakemake.config["analysis"]["batch_size"]  # a performance knob, no param
    conventions = [primary, *(name for name in CONVENTIONS if name != primary)]

    def metrics_of(dictionary):
        return dictionary_metrics(dictionary, embeddings.image, embeddings.text, analysis["tau"],
                                  batch_size, seed, conventions=conventions)

    with runtime.step(f"paper B metrics of {snakemake.wildcards.encoder}/"
                      f"{snakemake.wildcards.method} on {len(embeddings.image)} pairs"):
        metrics = metrics_of(model)
    bridge_mass = metrics.pop("bridge_mass", pd.DataFrame(columns=["tau"]))
    replicas = [load_dictionary(path)[0].to(runtime.device())
                for path in snakemake.input.replicas]
    with runtime.step(f"the same metrics of {len(replicas)} seed replicas"):
        replica_metrics = [metrics_of(replica) for replica in replicas]
    widths = {}
    if snakemake.params.intervals:  # only the dictionaries a paper B table reads
        with runtime.step("the 95 % intervals of the metrics"):
            widths = metric_half_widths(model, metrics, replica_metrics, embeddings.image,
                                        embeddings.text, analysis["tau"], conventions,
                                        snakemake.params.uncertainty, seed, batch_size)
    if replicas:
        metrics["stability"] = stability([model.dictionary.detach().cpu()]
                                         + [r.dictionary.detach().cpu() for r in replicas])
    row = {"encoder": snakemake.wildcards.encoder, "method": snakemake.wildcards.method,
           "architecture": facts["spec"]["architecture"], "latents": facts["n_latents"],
           "beta": facts.get("beta", 0.0), "training_pairs": facts.get("training_pairs"),
           "training_steps": facts.get("training_steps"), **metrics, **widths}
    write_table(pd.DataFrame([row]), snakemake.output.row)
    write_table(bridge_mass, snakemake.output.bridge)


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
