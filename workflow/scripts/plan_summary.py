"""Rule plan: print what the config will embed and train (pairs, widths, bytes, dictionaries
with their K and steps) before anything runs; nothing is written."""

from pathlib import Path

from crossmodal import runtime
from crossmodal.plan import plan_text


def main(snakemake):
    print(plan_text(snakemake.config, Path("results")))


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
