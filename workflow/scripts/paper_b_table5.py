"""Rule paper_b_table5: paper B appendix C's toy DGP, SAE vs SAE-A recovery, with "W ±" and
"mma ±" (bootstrap over the atoms, synthetic/recovery.py)."""

from crossmodal import runtime
from crossmodal.report.tables import write_table
from crossmodal.synthetic.experiment import RecoverySettings, run_table5
from crossmodal.tables.paper_b import TABLE5_NOTE


def main(snakemake):
    toy, seed = snakemake.params.toy, snakemake.params.seed
    uncertainty = snakemake.params.uncertainty
    runtime.configure(snakemake.threads, seed)
    settings = RecoverySettings(epochs=toy["epochs"], batch_size=toy["batch_size"], lr=toy["lr"],
                                resamples=int(uncertainty["resamples"]),
                                level=uncertainty["level"])
    table = run_table5(d=toy["d"], k=toy["k"], L=toy["L"], tau2=toy["tau2"],
                       n_train=toy["n_train"], settings=settings, beta=toy["beta"],
                       betas=toy.get("betas"), seed=seed)
    write_table(table, snakemake.output.csv, snakemake.output.markdown,
                notes=[f"± : half-width of the {uncertainty['level']:.0%} interval.",
                       TABLE5_NOTE])


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
