"""toyworld's ground truth is true: what the caption says and what the image shows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crossmodal.world import FAMILIES, families, render_scene, write_caption
from crossmodal.world.caption import MAX_WORDS, PLURAL
from crossmodal.world.concepts import FAMILY_BY_NAME, RGB
from crossmodal.world.dataset import ToyworldSpec, scene_table
from crossmodal.world.render import render_image

SCENE_COLUMNS = [f.name for f in FAMILIES] + ["cue_image", "cue_text", "render_seed"]


@pytest.fixture(scope="module")
def scenes() -> list[dict]:
    table, _ = scene_table(ToyworldSpec(seed=11, n_train=400, n_test=1, n_shifted=1, n_edits=1))
    return table[table["split"] == "train"][SCENE_COLUMNS].to_dict("records")


def test_every_bimodal_concept_is_named_in_the_caption(scenes):
    for scene in scenes:
        words = write_caption(scene).split()
        noun = scene["shape"] if scene["count"] == "one" else PLURAL[scene["shape"]]
        assert {noun, scene["colour"], scene["size"], scene["count"], scene["position"]} <= set(
            words
        )
        if scene["word"] != "none":
            assert f'" {scene["word"]} "' in write_caption(scene)
        assert len(words) <= MAX_WORDS


def test_objects_are_drawn_with_their_colour_count_size_and_position(scenes):
    for scene in scenes:
        plain = {**scene, "blur": "none", "border": "none"}
        rendering = render_scene(plain)
        pixels = np.asarray(rendering.image)
        mask = rendering.object_mask
        assert len(rendering.object_centres) == {"one": 1, "two": 2, "three": 3}[scene["count"]]
        on_colour = (pixels[mask] == np.array(RGB[scene["colour"]])).all(1).mean()
        assert on_colour > 0.95, scene
        rows = np.nonzero(mask)[0]
        assert (rows.mean() < 32) == (scene["position"] == "top")
        other_size = "small" if scene["size"] == "large" else "large"
        other_area = render_scene({**plain, "size": other_size}).object_mask.sum()
        assert (mask.sum() > 1.5 * other_area) == (scene["size"] == "large")


def test_typographic_word_is_drawn_in_the_other_half(scenes):
    for scene in scenes[:60]:
        with_word = np.asarray(render_image({**scene, "word": "attack", "blur": "none"})).astype(
            int
        )
        without = np.asarray(render_image({**scene, "word": "none", "blur": "none"})).astype(int)
        changed_rows = np.nonzero(np.abs(with_word - without).sum((1, 2)))[0]
        assert len(changed_rows) > 3
        other_half_top = scene["position"] == "bottom"
        assert (changed_rows.mean() < 32) == other_half_top


def test_image_only_concepts_never_reach_the_caption(scenes):
    image_words = {v for f in families("image") for v in f.concepts}
    for scene in scenes:
        caption = write_caption(scene)
        assert not image_words & set(caption.split())
        for family in families("image"):
            for value in family.values:
                assert write_caption({**scene, family.name: value}) == caption


def test_text_only_concepts_never_change_the_image(scenes):
    for scene in scenes[:80]:
        reference = np.asarray(render_image(scene))
        for family in families("text"):
            for value in family.values:
                changed = {**scene, family.name: value, "cue_text": not scene["cue_text"]}
                assert np.array_equal(np.asarray(render_image(changed)), reference)


def test_image_only_concepts_change_the_image(scenes):
    scene = {**scenes[0], "texture": "none", "tint": "none", "blur": "none", "border": "none"}
    reference = np.asarray(render_image(scene))
    for family in families("image"):
        for value in family.concepts:
            assert not np.array_equal(
                np.asarray(render_image({**scene, family.name: value})), reference
            ), (family.name, value)


def test_attribute_cues_follow_their_flags(scenes):
    for scene in scenes:
        caption = write_caption(scene)
        named = ("in daylight" in caption) or ("at night" in caption)
        assert named == scene["cue_text"]
        if scene["cue_text"]:
            assert ("in daylight" in caption) == (scene["attribute"] == "day")
        centre = np.asarray(render_image({**scene, "blur": "none"}))[32, 32]
        if scene["cue_image"]:
            assert (centre == (255 if scene["attribute"] == "day" else 0)).all()


def test_attribute_cue_rates_match_the_config():
    cues = {"day": {"image": 0.8, "text": 0.1}, "night": {"image": 0.2, "text": 0.7}}
    table, _ = scene_table(
        ToyworldSpec(seed=1, n_train=4000, n_test=1, n_shifted=1, n_edits=0, cues=cues)
    )
    for cls, rates in cues.items():
        rows = table[(table["split"] == "train") & (table["attribute"] == cls)]
        assert rows["cue_image"].mean() == pytest.approx(rates["image"], abs=0.04)
        assert rows["cue_text"].mean() == pytest.approx(rates["text"], abs=0.04)
        # comonotone coupling: the weaker modality's cue implies the stronger one's
        weaker, stronger = sorted(("image", "text"), key=lambda m: rates[m])
        assert rows.loc[rows[f"cue_{weaker}"], f"cue_{stronger}"].all()


def test_indicator_columns_match_the_categorical_columns(small_world):
    pairs, _ = small_world
    for family in FAMILIES:
        for value in family.concepts:
            column = pairs[f"gt_{family.name}_{value}"]
            assert column.dtype == bool
            assert (column == (pairs[family.name] == value)).all()


def test_splits_sizes_and_shift(small_world):
    pairs, edits = small_world
    counts = pairs["split"].value_counts()
    assert counts["train"] == 300 and counts["test"] == 50 and counts["shifted"] == 50
    assert counts["edit"] == 2 * len(edits) == 80
    assert pairs["pair_id"].is_unique


def test_shifted_split_has_other_frequencies():
    table, _ = scene_table(ToyworldSpec(seed=0, n_train=3000, n_test=1, n_shifted=3000, n_edits=0))
    train = table[table["split"] == "train"]["shape"].value_counts(normalize=True)
    shifted = table[table["split"] == "shifted"]["shape"].value_counts(normalize=True)
    total_variation = 0.5 * (train - shifted.reindex(train.index, fill_value=0)).abs().sum()
    assert total_variation > 0.1


def test_edit_targets_differ_in_exactly_one_bimodal_family(small_world):
    pairs, edits = small_world
    by_id = pairs.set_index("pair_id")
    names = [f.name for f in FAMILIES]
    for edit in edits.itertuples():
        source, target = by_id.loc[edit.source_pair_id], by_id.loc[edit.target_pair_id]
        differing = [n for n in names if source[n] != target[n]]
        assert differing == [edit.family]
        assert FAMILY_BY_NAME[edit.family].modality == "bimodal"
        assert edit.source_value in edit.relative_caption
        assert edit.target_value in edit.relative_caption


def test_same_seed_same_scenes_other_seed_other_scenes():
    first, _ = scene_table(ToyworldSpec(seed=5, n_train=50, n_test=5, n_shifted=5, n_edits=5))
    again, _ = scene_table(ToyworldSpec(seed=5, n_train=50, n_test=5, n_shifted=5, n_edits=5))
    other, _ = scene_table(ToyworldSpec(seed=6, n_train=50, n_test=5, n_shifted=5, n_edits=5))
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)


def test_images_are_rgb_at_the_configured_size(small_world):
    from crossmodal.images import decode_image

    pairs, _ = small_world
    image = decode_image(pairs["image"].iloc[0])
    assert image.size == (64, 64) and image.mode == "RGB"
    small = render_image({**pairs.iloc[0][SCENE_COLUMNS].to_dict()}, size=32)
    assert small.size == (32, 32)
