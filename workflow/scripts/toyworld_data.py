"""Rule toyworld_data: render the toyworld splits and edit triplets to parquet."""

from crossmodal import runtime
from crossmodal.store import write_frame
from crossmodal.world import ToyworldSpec, build_pairs
from crossmodal.world.concepts import FAMILIES


def main(snakemake):
    block = snakemake.params.dataset
    runtime.configure(snakemake.threads, snakemake.params.seed)
    spec = ToyworldSpec(
        seed=snakemake.params.seed, image_size=block["image_size"], n_train=block["n_train"],
        n_test=block["n_test"], n_shifted=block["n_shifted"], n_edits=block["n_edits"],
        shift_concentration=block["shift_concentration"], cues=block["attribute_cues"],
        mention_rates=block.get("mention_rates", {}),
        depiction_rates=block.get("depiction_rates", {}))
    pairs, edits = build_pairs(spec, workers=min(snakemake.threads, runtime.cpu_count()))
    families = {f.name: {"modality": f.modality, "values": list(f.values)} for f in FAMILIES}
    metadata = {"dataset": snakemake.wildcards.dataset, "kind": "toyworld",
                "families": str(families), "image_size": str(spec.image_size)}
    write_frame(edits, snakemake.output.edits, metadata)
    write_frame(pairs, snakemake.output.pairs, metadata)
    print(f"wrote {len(pairs)} pairs and {len(edits)} edits", file=runtime.log_stream())


runtime.run(lambda: main(snakemake), snakemake.log[0])  # noqa: F821
