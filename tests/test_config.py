"""Config validation: the shipped configs pass; malformed ones fail with one line naming the key
and what is allowed. Fast: no snakemake subprocess."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from crossmodal.config import (
    ConfigError,
    check_config,
    intervention_dictionary,
    intervention_evaluations,
)
from crossmodal.config_layers import load_layered

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "config" / "schema.yaml"


def _load(name: str) -> dict:
    """A shipped config as the workflow sees it (layered, ``replace`` consumed)."""
    return load_layered([ROOT / "config" / name], ROOT / "config" / "config.yaml")


@pytest.mark.parametrize("name", ["config.yaml", "smoke.yaml"])
def test_shipped_configs_are_valid(name):
    check_config(_load(name), SCHEMA)  # raises ConfigError otherwise


def test_open_clip_encoder_with_name_is_valid():
    config = _load("smoke.yaml")
    config["encoders"]["vitb32"] = {"backend": "open_clip", "name": "ViT-B-32",
                                    "pretrained": None, "precision": "fp32"}
    check_config(config, SCHEMA)


# --- malformed configs -----------------------------------------------------------------------
# (id, mutation of a deep copy of config/smoke.yaml, strings the one-line message must contain)


def _set(*path_and_value):
    *path, key, value = path_and_value

    def mutate(config):
        node = config
        for part in path:
            node = node[part]
        node[key] = value
    return mutate


def _delete(*path):
    *parents, key = path

    def mutate(config):
        node = config
        for part in parents:
            node = node[part]
        del node[key]
    return mutate


def _rename(parent_path, old, new):
    def mutate(config):
        node = config
        for part in parent_path:
            node = node[part]
        node[new] = node.pop(old)
    return mutate


MALFORMED = [
    ("negative-size", _set("datasets", "toyworld", "n_train", -5),
     ["datasets.toyworld.n_train", "-5", "minimum of 1"]),
    ("unknown-backend", _set("encoders", "toyclip", "backend", "foo"),
     ["encoders.toyclip.backend", "'foo'", "'toy', 'open_clip'"]),
    ("unknown-dataset-kind", _set("datasets", "toyworld", "kind", "cifar"),
     ["datasets.toyworld.kind", "'cifar'", "'toyworld'"]),
    # A missing key is reported at the mapping that lacks it, naming the key.
    ("missing-top-level-extract", _delete("extract"),
     ["'<top level>'", "'extract'", "required"]),
    ("missing-nested-epochs", _delete("encoders", "toyclip", "training", "epochs"),
     ["'encoders.toyclip.training'", "'epochs'", "required"]),
    ("missing-dataset-kind", _delete("datasets", "toyworld", "kind"),
     ["'datasets.toyworld'", "'kind'", "required"]),
    ("seed-wrong-type", _set("seed", "abc"),
     ["'seed'", "'abc'", "'integer'"]),
    ("seed-negative", _set("seed", -1),
     ["'seed'", "minimum of 0"]),
    ("epochs-wrong-type", _set("encoders", "toyclip", "training", "epochs", "two"),
     ["encoders.toyclip.training.epochs", "'integer'"]),
    ("probability-above-one", _set("datasets", "toyworld", "attribute_cues", "day", "image", 1.5),
     ["datasets.toyworld.attribute_cues.day.image", "1.5", "maximum of 1"]),
    ("image-size-above-bound", _set("datasets", "toyworld", "image_size", 1024),
     ["datasets.toyworld.image_size", "maximum of 512"]),
    ("extra-top-level-key", _set("bogus", 1),
     ["'<top level>'", "'bogus' was unexpected"]),
    ("extra-nested-key", _set("extract", "bogus", 1),
     ["'extract'", "'bogus' was unexpected"]),
    ("extra-encoder-key", _set("encoders", "toyclip", "colour", "red"),
     ["'encoders.toyclip'", "'colour' was unexpected"]),
    ("misspelled-dataset-key", _rename(["datasets", "toyworld"], "n_train", "n_tran"),
     ["'datasets.toyworld'", "'n_train'", "required"]),
    ("train-dataset-unconfigured", _set("encoders", "toyclip", "train_dataset", "nosuch"),
     ["encoders.toyclip.train_dataset", "'nosuch'", "['toyworld']"]),
    ("evaluation-dataset-unknown", _set("evaluation", "dataset", "nosuch"),
     ["evaluation.dataset", "'nosuch'", "['toyworld']"]),
    ("evaluation-split-unknown", _set("evaluation", "split", "val"),
     ["evaluation.split", "'val'", "'train', 'test', 'shifted', 'edit'"]),
    ("open-clip-without-name", _set("encoders", "vitb32", {"backend": "open_clip"}),
     ["'encoders.vitb32'", "'name'", "required"]),
    ("open-clip-bad-precision",
     _set("encoders", "vitb32", {"backend": "open_clip", "name": "ViT-B-32", "precision": "fp8"}),
     ["encoders.vitb32.precision", "'fp32', 'fp16', 'bf16', 'amp'"]),
    ("open-clip-with-toy-keys",
     _set("encoders", "vitb32", {"backend": "open_clip", "name": "ViT-B-32", "training": {}}),
     ["'encoders.vitb32'", "'training' was unexpected"]),
    ("zero-extract-batch-size", _set("extract", "batch_size", 0),
     ["extract.batch_size", "minimum of 1"]),
    ("one-training-batch-size", _set("encoders", "toyclip", "training", "batch_size", 1),
     ["encoders.toyclip.training.batch_size", "minimum of 2"]),
    ("no-datasets", _set("datasets", {}),
     ["'datasets'", "non-empty"]),
    ("bad-dataset-name", _rename(["datasets"], "toyworld", "1world"),
     ["'datasets'", "'1world'", "^[A-Za-z][A-Za-z0-9_-]*$"]),
    ("vision-layers-too-short", _set("toy_architecture", "vision_layers", [1, 1]),
     ["toy_architecture.vision_layers", "too short"]),
    ("section-wrong-type", _set("datasets", ["toyworld"]),
     ["'datasets'", "is not of type 'object'"]),
    ("number-wrong-type", _set("dictionary_training", "lr", "fast"),
     ["dictionary_training.lr", "'fast'", "'number'"]),
    ("unknown-architecture", _set("dictionaries", "sae", "architecture", "foo"),
     ["dictionaries.sae.architecture", "'foo'", "'mp'", "'ncl'"]),
    ("beta-neither-number-nor-auto", _set("dictionaries", "sae", "beta", "sometimes"),
     ["dictionaries.sae.beta", "'sometimes'"]),
    ("tau-above-bound", _set("analysis", "tau", 2),
     ["analysis.tau", "maximum of 0.5"]),
    ("dictionary-split-unknown", _set("dictionary_training", "split", "val"),
     ["dictionary_training.split", "'val'", "'train', 'test', 'shifted', 'edit'"]),
    # references between entries (crossmodal.config.reference_errors)
    ("target-unknown-dictionary",
     lambda config: config["dictionary_targets"]["toyclip"].append("nosuch"),
     ["dictionary_targets.toyclip", "'nosuch'", "not a configured dictionary", "'sae'"]),
    ("target-unknown-encoder", _set("dictionary_targets", "nosuchenc", ["sae"]),
     ["dictionary_targets.nosuchenc", "not a configured encoder", "'toyclip'"]),
    ("beta-auto-without-sweep", _delete("beta_sweep"),
     ["'beta_sweep'", "required when a dictionary has beta: auto"]),
    ("table1-unknown-dictionary", _set("paper_b", "table1", "sae", "nosuch"),
     ["paper_b.table1", "'nosuch'", "not a configured dictionary"]),
    ("intervention-encoder-without-its-dictionary", _set("interventions", "encoders",
                                                         ["toydeclip"]),
     ["interventions.encoders", "'toydeclip'", "'sae_a'", "dictionary_targets"]),
    ("arithmetic-dataset-unknown", _set("interventions", "arithmetic_dataset", "nosuch"),
     ["interventions.arithmetic_dataset", "'nosuch'", "['toyworld']"]),
    ("extract-splits-miss-a-needed-split", _set("extract", "splits", {"toyclip": ["test"]}),
     ["extract.splits.toyclip", "dictionary_training.split", "'train'", "['test']"]),
    ("extract-splits-unknown-encoder", _set("extract", "splits", {"nosuch": ["test"]}),
     ["extract.splits.nosuch", "not a configured encoder"]),
    ("evaluated-dataset-unknown", _set("interventions", "splits", "table10",
                                       {"dataset": "coco", "split": "train"}),
     ["interventions.splits.table10.dataset", "'coco'", "['toyworld']"]),
    ("evaluated-split-unknown", _set("interventions", "splits", "table10",
                                     {"dataset": "toyworld", "split": "val"}),
     ["interventions.splits.table10", "'val'", "'toyworld'"]),
    ("probe-split-unknown", _set("interventions", "probe_split", "val"),
     ["interventions.probe_split", "'val'", "'toyworld'"]),
    ("intervention-dictionary-mapping-without-an-encoder",
     _set("interventions", "dictionary", {"toydeclip": "sae_a"}),
     ["interventions.dictionary", "no entry for encoder", "'toyclip'"]),
    ("mono-model-not-a-target", _set("monosemanticity", "models", "X", "toydeclip/sae"),
     ["monosemanticity.models.X", "'toydeclip/sae'", "not a dictionary target"]),
    ("image-embedder-unknown-encoder",
     _set("monosemanticity", "image_embedder", {"kind": "encoder", "encoder": "nosuch"}),
     ["monosemanticity.image_embedder.encoder", "'nosuch'", "not a configured encoder"]),
    ("mds-panel-not-a-target", _set("analysis", "mds_panels", "X", "toyclip/nosuch"),
     ["analysis.mds_panels.X", "'toyclip/nosuch'", "not a dictionary target"]),
    ("case-study-model-not-a-target", _set("case_studies", "attribute", "model",
                                           "toydeclip/mm_topk"),
     ["case_studies.attribute.model", "'toydeclip/mm_topk'", "not a dictionary target"]),
]


@pytest.mark.parametrize("mutate, expected", [pytest.param(m, e, id=i) for i, m, e in MALFORMED])
def test_malformed_config_raises_one_line(mutate, expected):
    config = copy.deepcopy(_load("smoke.yaml"))
    mutate(config)
    with pytest.raises(ConfigError) as info:
        check_config(config, SCHEMA)
    message = str(info.value)
    assert "\n" not in message, message
    assert message.startswith("config error at '"), message
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"


def test_config_error_is_a_value_error():
    # Workflow scripts treat ValueError as a user error (one line, no traceback).
    assert issubclass(ConfigError, ValueError)


def test_missing_backend_names_backend():
    config = copy.deepcopy(_load("smoke.yaml"))
    del config["encoders"]["toyclip"]["backend"]
    with pytest.raises(ConfigError) as info:
        check_config(config, SCHEMA)
    message = str(info.value)
    assert message.startswith("config error at 'encoders.toyclip'"), message
    assert "'backend' is a required property" in message, message


def test_canonical_sorts_keys_at_every_level():
    from crossmodal.config import canonical

    value = {"b": {"y": 1, "x": [{"q": 1, "p": 2}]}, "a": 0}
    out = canonical(value)
    assert list(out) == ["a", "b"] and list(out["b"]) == ["x", "y"]
    assert list(out["b"]["x"][0]) == ["p", "q"]
    assert out == value


def test_intervention_splits_name_the_analysis_dataset_or_their_own():
    config = {"analysis": {"dataset": "laion"},
              "interventions": {"dictionary": {"clip": "sae_a_clip"},
                                "splits": {"table9": "train",
                                           "table10": {"dataset": "coco", "split": "train"}}}}
    assert intervention_evaluations(config) == {"table9": ("laion", "train"),
                                                "table10": ("coco", "train")}
    assert intervention_dictionary(config["interventions"], "clip") == "sae_a_clip"
    assert intervention_dictionary(config["interventions"], "siglip") is None
    assert intervention_dictionary({"dictionary": "sae_a"}, "siglip") == "sae_a"
