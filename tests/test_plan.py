"""The plan printed before a run (crossmodal.plan): pairs, widths, bytes, dictionaries, steps."""

import json
import math

import pandas as pd
import pytest

from crossmodal.plan import (
    dataset_pairs,
    dictionaries_table,
    embeddings_table,
    encoder_width,
    plan_text,
    split_pairs,
)

TOYWORLD = {"kind": "toyworld", "n_train": 400, "n_test": 20, "n_shifted": 20, "n_edits": 5}


def _config(**extra) -> dict:
    return {"seed": 0, "toy_architecture": {"embed_dim": 16},
            "datasets": {"toyworld": TOYWORLD},
            "encoders": {"toyclip": {"backend": "toy"}},
            "dictionary_training": {"dataset": "toyworld", "split": "train", "epochs": 5,
                                    "batch_size": 64},
            "dictionaries": {"raw": {"architecture": "identity"},
                             "sae": {"architecture": "mp", "expansion": 8, "k": 4},
                             "small": {"architecture": "topk", "expansion": 2, "k": 4,
                                       "pairs": 100, "epochs": 3}},
            "dictionary_targets": {"toyclip": ["raw", "sae", "small"]},
            **extra}


def test_toyworld_pairs_are_every_split_and_two_images_per_edit(tmp_path):
    assert dataset_pairs("toyworld", TOYWORLD, tmp_path) == (450.0, "config sizes")
    assert split_pairs("toyworld", TOYWORLD, "train", tmp_path) == 400.0


def test_a_written_pairs_file_is_counted_exactly(tmp_path):
    (tmp_path / "data" / "toyworld").mkdir(parents=True)
    pd.DataFrame({"split": ["train"] * 7 + ["test"] * 3}).to_parquet(
        tmp_path / "data" / "toyworld" / "pairs.parquet")
    assert dataset_pairs("toyworld", TOYWORLD, tmp_path) == (10.0, "pairs.parquet")
    assert split_pairs("toyworld", TOYWORLD, "test", tmp_path) == 3.0


def test_coco_and_class_folders_are_counted_and_max_pairs_bounds(tmp_path):
    annotations = tmp_path / "coco" / "annotations"
    annotations.mkdir(parents=True)
    (annotations / "captions_val2017.json").write_text(json.dumps(
        {"annotations": [{"image_id": i // 5, "caption": "x"} for i in range(25)]}))
    coco = {"kind": "coco", "root": str(tmp_path / "coco"), "split": "val"}
    assert dataset_pairs("coco", coco, tmp_path) == (25.0, "counted")
    assert dataset_pairs("coco", {**coco, "max_pairs": 10}, tmp_path) == (10.0, "counted, capped")
    for folder, images in (("n1", 3), ("n2", 2)):
        (tmp_path / "val" / folder).mkdir(parents=True)
        for i in range(images):
            (tmp_path / "val" / folder / f"{i}.JPEG").write_bytes(b"")
    (tmp_path / "val" / "n2" / "notes.txt").write_text("")
    folders = {"kind": "imagefolder", "root": str(tmp_path / "val"), "split": "val"}
    assert dataset_pairs("imagenet", folders, tmp_path) == (5.0, "counted")
    shards = {"kind": "webdataset", "shards": "/nowhere/{0..9}.tar"}
    assert dataset_pairs("laion", {**shards, "max_pairs": 1000}, tmp_path) == (1000.0,
                                                                                "≤ max_pairs")
    pairs, how = dataset_pairs("laion", shards, tmp_path)
    assert math.isnan(pairs) and how == "unknown until indexed"


def test_widths_come_from_the_toy_config_and_open_clips_bundled_configs():
    assert encoder_width({"backend": "toy"}, _config()) == 16
    assert encoder_width({"backend": "open_clip", "name": "ViT-B-32"}, {}) == 512
    assert encoder_width({"backend": "open_clip", "name": "ViT-H-14"}, {}) == 1024
    absent = {"backend": "transformers", "model": "nobody/no-such-model"}
    assert math.isnan(encoder_width(absent, {}))


def test_bytes_k_and_steps_by_hand(tmp_path):
    config = _config()
    embeddings = embeddings_table(config, tmp_path)
    row = embeddings.iloc[0]
    # 450 pairs × (image + text) × 16 floats × 4 bytes
    assert (row["pairs"], row["d"]) == (450.0, 16.0)
    assert row["gigabytes"] == pytest.approx(450 * 2 * 16 * 4 / 1e9)
    dictionaries = dictionaries_table(config, embeddings, tmp_path).set_index("dictionary")
    assert "raw" not in dictionaries.index                       # identity trains nothing
    # K = 8 · 16; 5 epochs · ⌊400 / 64⌋ = 5 · 6 steps (the trainer drops the last partial batch)
    assert dictionaries.loc["sae", ["K", "pairs", "steps"]].tolist() == [128, 400, 30]
    # its own 100 pairs and 3 epochs: 3 · ⌊100 / 64⌋ = 3
    assert dictionaries.loc["small", ["K", "pairs", "steps"]].tolist() == [32, 100, 3]


def test_restricted_splits_and_table_replicas_are_planned(tmp_path):
    config = _config(extract={"batch_size": 8, "splits": {"toyclip": ["test", "shifted"]}},
                     paper_b={"stability_seeds": [1, 2],
                              "table3": {"encoder": "toyclip", "columns": {"SAE": "sae"}}})
    embeddings = embeddings_table(config, tmp_path)
    assert embeddings.loc[0, "pairs"] == 40.0 and embeddings.loc[0, "splits"] == "test,shifted"
    runs = dictionaries_table(config, embeddings, tmp_path)
    assert sorted(runs.loc[runs["dictionary"] == "sae", "seed"]) == [0, 1, 2]
    text = plan_text(config, tmp_path)
    assert "Dictionaries to train (4 runs)" in text and "total on disk" in text
