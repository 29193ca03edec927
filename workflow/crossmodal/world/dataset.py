"""Build the toyworld dataset: train / test / shifted splits and edit triplets.

``build_pairs`` returns the ``pairs.parquet`` frame: one row per image–caption pair
with ``pair_id``, ``split``, ``image`` (PNG bytes), ``caption``, one categorical column per
concept family, the attribute cue flags, the ``mentioned_<family>`` / ``depicted_<family>`` flags
(which image-only values the caption names, which text-only values the image shows) and the
``gt_*`` indicator columns. Edit triplets are
stored as ordinary pairs of split ``edit`` (so every encoder embeds them like any other pair)
plus an ``edits`` frame that links source, target and the relative caption.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from tqdm import tqdm

from crossmodal.world.caption import relative_caption, write_caption
from crossmodal.world.concepts import FAMILY_BY_NAME
from crossmodal.world.render import render_image
from crossmodal.world.scenes import DEFAULT_CUES, indicators, sample_scenes, shifted_frequencies

EDITABLE_FAMILIES = ("shape", "colour", "size", "count", "position")
EDIT_COLUMNS = ["edit_id", "source_pair_id", "target_pair_id", "family", "source_value",
                "target_value", "relative_caption"]
SPLIT_STREAMS = {"train": 0, "test": 1, "shifted": 2, "edit": 3, "shift_frequencies": 4}


@dataclass(frozen=True)
class ToyworldSpec:
    """Everything that determines a toyworld dataset (the ``datasets.<name>`` config block)."""

    seed: int = 0
    image_size: int = 64
    n_train: int = 20000
    n_test: int = 2000
    n_shifted: int = 2000
    n_edits: int = 500
    shift_concentration: float = 0.5
    cues: Mapping[str, Mapping[str, float]] = field(default_factory=lambda: DEFAULT_CUES)
    # P(caption names an image-only family's value | present), per family (absent: 0)
    mention_rates: Mapping[str, float] = field(default_factory=dict)
    # P(image shows a text-only family's value as a glyph | present), per family (absent: 0)
    depiction_rates: Mapping[str, float] = field(default_factory=dict)

    def rng(self, stream: str) -> np.random.Generator:
        """An independent generator per split, so changing one split's size leaves the others."""
        return np.random.default_rng([self.seed, SPLIT_STREAMS[stream]])

    def sample(self, n: int, rng: np.random.Generator,
               frequencies: Mapping[str, list[float]] | None = None) -> pd.DataFrame:
        """``n`` scenes with this spec's attribute cues and mention / depiction rates."""
        return sample_scenes(n, rng, frequencies, self.cues, self.mention_rates,
                             self.depiction_rates)


def encode_png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _render_chunk(args: tuple[list[dict], int]) -> list[bytes]:
    records, size = args
    return [encode_png(render_image(record, size)) for record in records]


def render_pngs(scenes: pd.DataFrame, size: int, workers: int = 1, chunk: int = 256,
                progress: bool = True) -> list[bytes]:
    """PNG bytes of every scene, in order; ``workers`` > 1 renders in worker processes."""
    records = scenes.to_dict("records")
    chunks = [(records[i:i + chunk], size) for i in range(0, len(records), chunk)]
    bar = tqdm(total=len(records), desc="render", unit="img", disable=not progress,
               mininterval=5)
    out: list[bytes] = []
    if workers > 1 and len(chunks) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for pngs in pool.map(_render_chunk, chunks):
                out.extend(pngs)
                bar.update(len(pngs))
    else:
        for item in chunks:
            pngs = _render_chunk(item)
            out.extend(pngs)
            bar.update(len(pngs))
    bar.close()
    return out


def edit_scenes(spec: ToyworldSpec) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Source scenes, target scenes (one bimodal family changed) and the edit table."""
    rng = spec.rng("edit")
    sources = spec.sample(spec.n_edits, rng)
    targets = sources.copy()
    changed = rng.choice(np.array(EDITABLE_FAMILIES), size=spec.n_edits)
    rows = []
    for i, family in enumerate(changed):
        old = sources.at[i, family]
        options = [v for v in FAMILY_BY_NAME[family].values if v != old]
        new = options[rng.integers(len(options))]
        targets.at[i, family] = new
        rows.append({"edit_id": i, "source_pair_id": f"edit-src-{i:06d}",
                     "target_pair_id": f"edit-tgt-{i:06d}", "family": family,
                     "source_value": old, "target_value": new,
                     "relative_caption": relative_caption(family, old, new)})
    return sources, targets, pd.DataFrame(rows, columns=EDIT_COLUMNS)


def _split_frame(scenes: pd.DataFrame, split: str, ids: list[str]) -> pd.DataFrame:
    frame = scenes.copy()
    frame.insert(0, "split", split)
    frame.insert(0, "pair_id", ids)
    return frame


def scene_table(spec: ToyworldSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All scenes of every split (no images yet) and the edit table."""
    shifted = shifted_frequencies(spec.rng("shift_frequencies"), spec.shift_concentration)
    parts = []
    for split, n, frequencies in (("train", spec.n_train, None), ("test", spec.n_test, None),
                                  ("shifted", spec.n_shifted, shifted)):
        scenes = spec.sample(n, spec.rng(split), frequencies)
        parts.append(_split_frame(scenes, split, [f"{split}-{i:06d}" for i in range(n)]))
    sources, targets, edits = edit_scenes(spec)
    parts.append(_split_frame(sources, "edit", list(edits["source_pair_id"])))
    parts.append(_split_frame(targets, "edit", list(edits["target_pair_id"])))
    return pd.concat(parts, ignore_index=True), edits


def build_pairs(spec: ToyworldSpec, workers: int = 1, progress: bool = True
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``pairs`` frame (with PNG images and captions) and the ``edits`` frame."""
    scenes, edits = scene_table(spec)
    captions = [write_caption(record) for record in scenes.to_dict("records")]
    images = render_pngs(scenes, spec.image_size, workers=workers, progress=progress)
    pairs = scenes.copy()
    pairs.insert(2, "image", images)
    pairs.insert(3, "caption", captions)
    return pd.concat([pairs, indicators(scenes)], axis=1), edits
