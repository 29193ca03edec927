"""Benchmark: toyworld rendering throughput (scene → PNG bytes), single process.

    python benchmarks/render.py [n]

Target: ≥ 500 pairs/s per core, caption writing included.
"""

import sys
import time

from crossmodal.world import ToyworldSpec, scene_table, write_caption
from crossmodal.world.dataset import render_pngs


def main(n: int = 4000) -> None:
    scenes, _ = scene_table(ToyworldSpec(seed=0, n_train=n, n_test=1, n_shifted=1, n_edits=0))
    scenes = scenes[scenes["split"] == "train"]
    start = time.perf_counter()
    render_pngs(scenes, 64, workers=1, progress=False)
    captions = [write_caption(r) for r in scenes.to_dict("records")]
    seconds = time.perf_counter() - start
    print(f"rendered {len(captions)} pairs (64×64 PNG + caption) in {seconds:.2f} s: "
          f"{len(captions) / seconds:.0f} pairs/s on one core")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 4000)
