"""Layered configs: `--configfile a.yaml b.yaml` extends the default as Snakemake does, `replace`
drops what lies under a layer, and `{paths.<name>}` follows a layered `paths:` block."""

from pathlib import Path

import pytest
import yaml

from crossmodal.config import ConfigError, check_config
from crossmodal.config_layers import layer_configs, load_layered, resolve_paths

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "config" / "config.yaml"
BASE = {"a": {"x": 1, "y": 2}, "b": 1}


def test_a_layer_merges_mappings_key_by_key_and_replaces_other_values():
    assert layer_configs(BASE, [{"a": {"y": 3}, "b": [4]}]) == {"a": {"x": 1, "y": 3}, "b": [4]}
    assert BASE == {"a": {"x": 1, "y": 2}, "b": 1}  # the base is not modified


def test_replace_drops_the_named_sections_or_everything():
    assert layer_configs(BASE, [{"replace": ["a"], "a": {"y": 3}}]) == {"a": {"y": 3}, "b": 1}
    assert layer_configs(BASE, [{"replace": "all", "c": 5}]) == {"c": 5}
    # a later layer merges onto a complete one
    assert layer_configs(BASE, [{"replace": "all", "a": {"x": 0}}, {"a": {"z": 9}}]) \
        == {"a": {"x": 0, "z": 9}}
    with pytest.raises(ConfigError, match="my.yaml: 'replace' must be 'all' or a list"):
        layer_configs(BASE, [{"replace": 3}], ["my.yaml"])


def test_path_references_take_the_value_or_its_text():
    config = {"paths": {"root": "/data/coco", "cache": None, "shards": "s/{000..009}.tar"},
              "datasets": {"coco": {"root": "{paths.root}", "images": "{paths.root}/train2017",
                                    "shards": "{paths.shards}"}},
              "encoders": {"e": {"cache_dir": "{paths.cache}"}}}
    resolved = resolve_paths(config)
    assert resolved["datasets"]["coco"] == {"root": "/data/coco", "images": "/data/coco/train2017",
                                            "shards": "s/{000..009}.tar"}
    assert resolved["encoders"]["e"]["cache_dir"] is None
    with pytest.raises(ConfigError, match=r"'\{paths.nope\}' is used but 'paths' has no 'nope'"):
        resolve_paths({"paths": {}, "x": "{paths.nope}"})


def test_an_overlay_alone_extends_the_default(tmp_path):
    overlay = tmp_path / "seed.yaml"
    overlay.write_text("seed: 7\n")
    config = load_layered([overlay], DEFAULT)
    assert config["seed"] == 7 and "toyclip" in config["encoders"]
    check_config(config, ROOT / "config" / "schema.yaml")


def test_a_paths_overlay_moves_an_experiments_data(tmp_path):
    overlay = tmp_path / "my_paths.yaml"
    overlay.write_text(yaml.safe_dump({"paths": {"coco_root": "/data/coco"}}))
    experiment = ROOT / "config" / "experiments" / "paperB-six-models.yaml"
    config = load_layered([experiment, overlay], DEFAULT)
    coco = [block for block in config["datasets"].values() if block.get("kind") == "coco"]
    assert coco and all(block["root"] == "/data/coco" for block in coco)
    assert "toyworld" not in config["datasets"]  # `replace: all`: nothing of the default leaks
    assert "toyclip" not in config["encoders"]


def test_command_line_values_come_last(tmp_path):
    overlay = tmp_path / "seed.yaml"
    overlay.write_text("seed: 7\n")
    assert load_layered([overlay], DEFAULT, {"seed": 9})["seed"] == 9


def test_a_file_that_is_not_a_mapping_is_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="bad.yaml: a config file must be a mapping"):
        load_layered([bad], DEFAULT)
