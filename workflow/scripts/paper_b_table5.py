"""Rule paper_b_table5: paper B appendix C's toy DGP, SAE vs SAE-A recovery."""

from crossmodal import runtime
from crossmodal.report.tables import write_table
from crossmodal.synthetic.experiment import RecoverySettings, run_table5


def main(snakemake):
    toy, seed = snakemake.params.toy, snakemake.params.seed
    runtime.configure(snakemake.threads, seed)
    settings = RecoverySettings(epochs=toy["epochs"], batch_size=toy["batch_size"], lr=toy["lr"])
    table = run_table5(d=toy["d"], k=toy["k"], L=toy["L"], tau2=toy["tau2"],
                       n_train=toy["n_train"], settings=settings, beta=toy["beta"],
                       betas=toy.get("betas"), seed=seed)
    write_table(table, snakemake.output.csv, snakemake.output.markdown)


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
