"""Config schema of the real-data dataset kinds (webdataset, coco, imagefolder, table): the
documented examples pass, malformed blocks stop with one line naming the key."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from crossmodal.config import ConfigError, check_config
from crossmodal.config_layers import load_layered

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "config" / "schema.yaml"
VALID = {
    "cc3m": {"kind": "webdataset", "shards": "/data/cc3m/{00000..00331}.tar", "split": "train",
             "max_pairs": 100000, "json_fields": ["url", "similarity"]},
    "laion": {"kind": "webdataset", "splits": {"train": ["/d/a.tar", "/d/b.tar"],
                                               "test": "/d/{000..003}.tar"}},
    "coco": {"kind": "coco", "root": "/data/coco", "split": "val", "split_name": "test"},
    "imagenet": {"kind": "imagefolder", "root": "/data/imagenet/val",
                 "class_names": "/data/imagenet/classnames.json", "split": "test",
                 "template": "a photo of a {}."},
    "mine": {"kind": "table", "path": "data/pairs.csv", "split": "train",
             "image_column": "file", "caption_column": "text"},
}


def _with(name: str, block: dict) -> dict:
    config = load_layered([ROOT / "config" / "smoke.yaml"], None)
    config["datasets"][name] = copy.deepcopy(block)
    return config


@pytest.mark.parametrize("name", sorted(VALID))
def test_documented_dataset_blocks_are_valid(name):
    check_config(_with(name, VALID[name]), SCHEMA)


@pytest.mark.parametrize("block, parts", [
    ({"kind": "webdataset"}, ["'datasets.d'", "either 'shards'", "or 'splits'"]),
    ({"kind": "webdataset", "shards": "/a.tar", "splits": {"train": "/a.tar"}},
     ["'datasets.d'", "give one of them"]),
    ({"kind": "webdataset", "splits": {"train": "/a.tar"}, "split": "val"},
     ["'datasets.d'", "give one of them"]),
    ({"kind": "webdataset", "shards": []}, ["'datasets.d.shards'"]),
    ({"kind": "webdataset", "shards": "/a.tar", "json_fields": ["caption"]},
     ["'datasets.d.json_fields.0'"]),
    ({"kind": "webdataset", "shards": "/a.tar", "max_pair": 3}, ["'max_pair' was unexpected"]),
    ({"kind": "coco", "root": "/c", "split": "test"}, ["'datasets.d.split'", "'val'"]),
    ({"kind": "coco", "split": "val"}, ["'datasets.d'", "'root' is a required property"]),
    ({"kind": "imagefolder", "root": "/i", "template": "a photo"}, ["'datasets.d.template'"]),
    ({"kind": "table", "path": "pairs.xlsx"}, ["'datasets.d.path'"]),
    ({"kind": "laion"}, ["'datasets.d.kind'", "'webdataset', 'coco', 'imagefolder', 'table'"]),
])
def test_malformed_dataset_blocks_stop_with_one_line(block, parts):
    with pytest.raises(ConfigError) as info:
        check_config(_with("d", block), SCHEMA)
    message = str(info.value)
    assert "\n" not in message and message.startswith("config error at "), message
    for part in parts:
        assert part in message, message


def _analysis_on(name: str, block: dict, split: str) -> dict:
    """smoke.yaml with its evaluation reading ``split`` of a real dataset ``name``."""
    config = _with(name, block)
    config["evaluation"].update(dataset=name, split=split)
    return config


@pytest.mark.parametrize("name, split", [
    ("cc3m", "train"), ("laion", "test"), ("coco", "test"), ("imagenet", "test"),
    ("mine", "anything"),  # a table may carry its own split column: not checked
])
def test_any_split_name_of_the_dataset_is_accepted(name, split):
    check_config(_analysis_on(name, VALID[name], split), SCHEMA)


@pytest.mark.parametrize("name, split, splits", [
    ("cc3m", "test", "'train'"), ("laion", "val", "'train', 'test'"), ("coco", "val", "'test'"),
    ("imagenet", "val", "'test'"),
])
def test_a_split_the_dataset_lacks_stops_with_one_line(name, split, splits):
    with pytest.raises(ConfigError) as info:
        check_config(_analysis_on(name, VALID[name], split), SCHEMA)
    message = str(info.value)
    for part in ("'evaluation.split'", f"{split!r} is not a split of dataset {name!r}", splits):
        assert part in message, message


def test_paper_b_table1_takes_one_sae_a_per_encoder():
    config = yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text())
    config["dictionaries"]["sae_a_b"] = {"architecture": "mp", "expansion": 2, "k": 4,
                                         "beta": 1.0e-4}
    config["paper_b"]["table1"] = {"encoders": ["toyclip", "toydeclip"], "sae": "sae",
                                   "sae_a": {"toyclip": "sae_a", "toydeclip": "sae_a_b"}}
    check_config(config, SCHEMA)
    del config["paper_b"]["table1"]["sae_a"]["toydeclip"]
    with pytest.raises(ConfigError, match="paper_b.table1.sae_a.*'toydeclip'"):
        check_config(config, SCHEMA)
