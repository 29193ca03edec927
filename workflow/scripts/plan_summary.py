"""Rule plan: print what the config will embed and train (pairs, widths, bytes, dictionaries
with their K and steps) before anything runs, and with ``unit_costs`` (a table of measured
per-unit costs) the hours they need; nothing is written."""

from pathlib import Path

from crossmodal import runtime
from crossmodal.plan import plan_text
from crossmodal.unit_costs import read_costs


def main(snakemake):
    costs_path = snakemake.config.get("unit_costs")
    costs = read_costs(costs_path) if costs_path else None
    print(plan_text(snakemake.config, Path("results"), costs))


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
