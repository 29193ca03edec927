"""Rule dictionary_gates: pass/fail gates on what each Matching Pursuit SAE learned."""

import pandas as pd

from crossmodal import runtime
from crossmodal.dictionaries.gates import dictionary_gates
from crossmodal.report.tables import write_table


def main(snakemake):
    metrics = pd.concat([pd.read_csv(path) for path in snakemake.input.metrics],
                        ignore_index=True)
    summary = pd.read_csv(snakemake.input.summary)
    concepts = (pd.read_csv(snakemake.input.concepts) if snakemake.input.get("concepts")
                else None)
    gates = dictionary_gates(metrics, summary, concepts, snakemake.params.settings)
    for _, row in gates[gates["passed"] != "n/a"].iterrows():
        print(f"{row['encoder']}/{row['dictionary']} {row['gate']}: {row['value']:.3f} "
              f"(≥ {row['threshold']:.3f}) {row['passed']}")
    write_table(gates, snakemake.output.csv, snakemake.output.markdown)


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
