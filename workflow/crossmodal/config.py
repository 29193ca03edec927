"""Config validation with one-line errors.

The JSON schema (``config/schema.yaml``) says what each key may hold; ``check_config`` reports
the single most relevant violation as ``config error at 'a.b.c': <what is wrong>`` — the key
path and the allowed values — and then checks what a schema cannot: names that must refer to
other config entries.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import jsonschema
import yaml

from crossmodal.errors import CrossmodalError


class ConfigError(CrossmodalError):
    """The configuration cannot be run; the message is one line naming the key and the fix."""


def load_schema(path: str | Path) -> dict:
    return yaml.safe_load(Path(path).read_text())


def _key_path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(part) for part in error.absolute_path) or "<top level>"


def schema_error(config: Mapping, schema: Mapping) -> str | None:
    """The best-matching schema violation as one line, or None if the config is valid."""
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is None:
        return None
    return f"config error at '{_key_path(error)}': {error.message}".replace("\n", " ")


def reference_errors(config: Mapping) -> list[str]:
    """Names that must point at configured entries (datasets used by encoders and evaluation)."""
    datasets = sorted(config["datasets"])
    errors = []
    for name, encoder in config["encoders"].items():
        dataset = encoder.get("train_dataset")
        if dataset is not None and dataset not in datasets:
            errors.append(f"config error at 'encoders.{name}.train_dataset': {dataset!r} is not "
                          f"a configured dataset; choose one of {datasets}")
    errors += dataset_errors(config)
    evaluation = config["evaluation"]["dataset"]
    if evaluation not in datasets:
        errors.append(f"config error at 'evaluation.dataset': {evaluation!r} is not a "
                      f"configured dataset; choose one of {datasets}")
    return (errors + dictionary_reference_errors(config, datasets) + split_errors(config)
            + extraction_split_errors(config) + text_to_image_errors(config)
            + image_expert_errors(config) + encoder_gate_errors(config))


def dataset_errors(config: Mapping) -> list[str]:
    """What the schema cannot say clearly: a webdataset names its shards exactly one way."""
    errors = []
    for name, block in config["datasets"].items():
        if block["kind"] != "webdataset":
            continue
        if ("shards" in block) == ("splits" in block) or ("splits" in block and "split" in block):
            errors.append(f"config error at 'datasets.{name}': a webdataset needs either "
                          "'shards' (and optionally 'split') or 'splits' (split name → shards); "
                          "give one of them")
    return errors


def dictionary_reference_errors(config: Mapping, datasets: list[str]) -> list[str]:
    """Dictionary targets must name configured encoders and dictionaries; the training blocks
    must be present when dictionaries are."""
    targets = config.get("dictionary_targets", {})
    if not targets:
        return []
    errors = []
    for key in ("dictionaries", "dictionary_training", "analysis"):
        if key not in config:
            errors.append(f"config error at '{key}': required when 'dictionary_targets' is set")
    if "dictionary_training" in config and config["dictionary_training"]["dataset"] not in datasets:
        errors.append(f"config error at 'dictionary_training.dataset': "
                      f"{config['dictionary_training']['dataset']!r} is not a configured dataset; "
                      f"choose one of {datasets}")
    if "analysis" in config and config["analysis"]["dataset"] not in datasets:
        errors.append(f"config error at 'analysis.dataset': {config['analysis']['dataset']!r} "
                      f"is not a configured dataset; choose one of {datasets}")
    errors += (paper_b_reference_errors(config) + intervention_reference_errors(config)
               + monosemanticity_reference_errors(config) + case_study_reference_errors(config))
    trained = {f"{e}/{m}" for e, names in targets.items() for m in names}
    for label, target in config.get("analysis", {}).get("mds_panels", {}).items():
        if target not in trained:
            errors.append(f"config error at 'analysis.mds_panels.{label}': {target!r} is not a "
                          f"dictionary target; choose one of {sorted(trained)}")
    encoders, dictionaries = sorted(config["encoders"]), sorted(config.get("dictionaries", {}))
    for encoder, names in targets.items():
        if encoder not in encoders:
            errors.append(f"config error at 'dictionary_targets.{encoder}': not a configured "
                          f"encoder; choose one of {encoders}")
        for name in names:
            if name not in dictionaries:
                errors.append(f"config error at 'dictionary_targets.{encoder}': {name!r} is not a "
                              f"configured dictionary; choose one of {dictionaries}")
    uses_auto = any(d.get("beta") == "auto" for d in config.get("dictionaries", {}).values())
    if uses_auto and "beta_sweep" not in config:
        errors.append("config error at 'beta_sweep': required when a dictionary has beta: auto")
    return errors


def check_config(config: Mapping, schema_path: str | Path) -> None:
    """Raise ``ConfigError`` (one line) if ``config`` violates the schema or its references."""
    message = schema_error(config, load_schema(schema_path))
    if message is None:
        errors = reference_errors(config)
        message = errors[0] if errors else None
    if message is not None:
        raise ConfigError(message)


def canonical(value):
    """``value`` with every mapping's keys sorted, recursively. Snakemake compares ``params`` by
    their printed form, so sorting makes reruns depend on values only, not on key order."""
    if isinstance(value, Mapping):
        return {key: canonical(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [canonical(item) for item in value]
    return value


def paper_b_reference_errors(config: Mapping) -> list[str]:
    """Paper B's tables must name configured encoders and dictionaries."""
    paper_b = config.get("paper_b", {})
    encoders, dictionaries = sorted(config["encoders"]), sorted(config.get("dictionaries", {}))
    errors = []

    def check(where: str, encoder_names, dictionary_names):
        errors.extend(f"config error at 'paper_b.{where}': {e!r} is not a configured encoder; "
                      f"choose one of {encoders}" for e in encoder_names if e not in encoders)
        errors.extend(f"config error at 'paper_b.{where}': {m!r} is not a configured "
                      f"dictionary; choose one of {dictionaries}"
                      for m in dictionary_names if m not in dictionaries)

    if "table1" in paper_b:
        table = paper_b["table1"]
        for kind in ("sae", "sae_a"):
            if isinstance(table[kind], Mapping):
                errors.extend(f"config error at 'paper_b.table1.{kind}': no dictionary for "
                              f"encoder {e!r}; add '{e}: <dictionary>'"
                              for e in table["encoders"] if e not in table[kind])
        check("table1", table["encoders"],
              [table1_dictionary(table, kind, e) for e in table["encoders"]
               for kind in ("sae", "sae_a")])
    for name in ("table3", "table4"):
        if name in paper_b:
            check(name, [paper_b[name]["encoder"]], paper_b[name]["columns"].values())
    return errors


def needed_splits(config: Mapping, encoder: str) -> list[tuple[str, str]]:
    """(config key, split) of every split the workflow reads from ``encoder``'s embeddings:
    the encoder table's; the analysis split when it has dictionary targets; the training split
    when one of them trains (not ``identity``); the monosemanticity split and its
    classification's when they score one of its models; the interventions' splits and the
    baselines' train split when it is an interventions encoder."""
    needed = [("evaluation.split", config["evaluation"]["split"])]
    targets = config.get("dictionary_targets", {}).get(encoder, [])
    if targets:
        needed.append(("analysis.split", config["analysis"]["split"]))
    dictionaries = config.get("dictionaries", {})
    if any(dictionaries.get(m, {}).get("architecture") != "identity" for m in targets):
        needed.append(("dictionary_training.split", config["dictionary_training"]["split"]))
    mono = config.get("monosemanticity", {})
    if any(str(model).split("/")[0] == encoder for model in mono.get("models", {}).values()):
        needed.append(("monosemanticity.split", mono["split"]))
    classification = mono.get("classification", {})
    if str(classification.get("model", "")).split("/")[0] == encoder:
        needed.append(("monosemanticity.classification.split", classification["split"]))
    interventions = config.get("interventions", {})
    if encoder in interventions.get("encoders", []):
        needed.append(("interventions (the baselines' fit)", "train"))
        needed += [(f"interventions.splits.{table}", split)
                   for table, (_, split) in intervention_evaluations(config).items()]
    return needed


def extraction_split_errors(config: Mapping) -> list[str]:
    """An encoder that embeds only some splits (``extract.splits``) must embed every split the
    workflow reads from it (:func:`needed_splits`)."""
    errors = []
    for encoder, splits in config.get("extract", {}).get("splits", {}).items():
        if encoder not in config["encoders"]:
            errors.append(f"config error at 'extract.splits.{encoder}': not a configured "
                          f"encoder; choose one of {sorted(config['encoders'])}")
            continue
        errors += [f"config error at 'extract.splits.{encoder}': {where} reads split "
                   f"{split!r}, which it does not embed; add it to {list(splits)}"
                   for where, split in needed_splits(config, encoder) if split not in splits]
    return errors


def intervention_evaluations(config: Mapping) -> dict[str, tuple[str, str]]:
    """Paper B table (table9, table10, table11) → (dataset, split) its gap removal evaluates:
    an entry of ``interventions.splits`` is a split of the analysis dataset (a name) or
    ``{dataset, split}``, a split of any configured dataset (paper B's COCO and ImageNet)."""
    analysis = config.get("analysis", {}).get("dataset")
    evaluations = {}
    for table, entry in config.get("interventions", {}).get("splits", {}).items():
        if isinstance(entry, Mapping):
            evaluations[table] = (entry["dataset"], entry["split"])
        else:
            evaluations[table] = (analysis, entry)
    return evaluations


def intervention_dictionary(block: Mapping, encoder: str) -> str | None:
    """The dictionary whose bimodal mask the interventions of ``encoder`` use:
    ``interventions.dictionary`` is one name for every encoder or encoder → name (paper B's
    SAE-A with each model's own β); None for an encoder the mapping lacks."""
    name = block["dictionary"]
    return name.get(encoder) if isinstance(name, Mapping) else name


def intervention_reference_errors(config: Mapping) -> list[str]:
    """The interventions' encoders must each have their dictionary as a target."""
    block = config.get("interventions")
    if not block:
        return []
    targets = config.get("dictionary_targets", {})
    errors = []
    for encoder in block["encoders"]:
        name = intervention_dictionary(block, encoder)
        if name is None:
            errors.append(f"config error at 'interventions.dictionary': no entry for encoder "
                          f"{encoder!r}; add one")
        elif name not in targets.get(encoder, []):
            errors.append(f"config error at 'interventions.encoders': {encoder!r} has no "
                          f"dictionary {name!r} in 'dictionary_targets'; add it there or remove "
                          "the encoder")
    for table, (dataset, _) in intervention_evaluations(config).items():
        if dataset not in config["datasets"]:
            errors.append(f"config error at 'interventions.splits.{table}.dataset': {dataset!r} "
                          f"is not a configured dataset; choose one of "
                          f"{sorted(config['datasets'])}")
    arithmetic = block.get("arithmetic_dataset")
    if arithmetic is not None and arithmetic not in config["datasets"]:
        errors.append(f"config error at 'interventions.arithmetic_dataset': {arithmetic!r} is not "
                      f"a configured dataset; choose one of {sorted(config['datasets'])}")
    return errors


def monosemanticity_reference_errors(config: Mapping) -> list[str]:
    """Every "encoder/dictionary" the monosemanticity block names must be a dictionary target,
    and an encoder image embedder must be a configured encoder."""
    block = config.get("monosemanticity")
    if not block:
        return []
    trained = {f"{e}/{m}" for e, names in config.get("dictionary_targets", {}).items()
               for m in names}
    named = [(f"models.{label}", target) for label, target in block["models"].items()]
    named += [("training_curves", t) for t in block["training_curves"]]
    named += [("classification.model", block["classification"]["model"])]
    named += [("galleries.models", t) for t in block["galleries"]["models"]]
    errors = [f"config error at 'monosemanticity.{where}': {target!r} is not a dictionary "
              f"target; choose one of {sorted(trained)}"
              for where, target in named if target not in trained]
    image = block["image_embedder"]
    if image["kind"] == "encoder" and image.get("encoder") not in config["encoders"]:
        errors.append(f"config error at 'monosemanticity.image_embedder.encoder': "
                      f"{image.get('encoder')!r} is not a configured encoder; choose one of "
                      f"{sorted(config['encoders'])}")
    if image["kind"] == "transformers" and not image.get("model"):
        errors.append("config error at 'monosemanticity.image_embedder': kind transformers needs "
                      "'model' (a hub name or a local directory)")
    return errors


def case_study_reference_errors(config: Mapping) -> list[str]:
    """The case studies' models must be dictionary targets; the adversarial study's encoder needs
    its raw dimensions (``raw``, an identity dictionary) among its targets for the MDS groups."""
    studies = config.get("case_studies", {})
    targets = config.get("dictionary_targets", {})
    trained = {f"{e}/{m}" for e, names in targets.items() for m in names}
    errors = []
    if "attribute" in studies and studies["attribute"]["model"] not in trained:
        errors.append(f"config error at 'case_studies.attribute.model': "
                      f"{studies['attribute']['model']!r} is not a dictionary target; choose one "
                      f"of {sorted(trained)}")
    if "adversarial" in studies:
        encoder = studies["adversarial"]["encoder"]
        if f"{encoder}/raw" not in trained:
            errors.append(f"config error at 'case_studies.adversarial.encoder': {encoder!r} needs "
                          f"'raw' (architecture identity) in dictionary_targets.{encoder}")
        errors += adversarial_errors(studies["adversarial"], config)
    return errors


def adversarial_errors(block: Mapping, config: Mapping) -> list[str]:
    """Case study 2 types words into toyworld scenes, or (real data) instructions on white."""
    dataset = config.get("analysis", {}).get("dataset")
    toyworld = config["datasets"].get(dataset, {}).get("kind") == "toyworld"
    needed = (["harmful_words", "benign_words", "friendly_word"] if toyworld
              else ["instructions", "benign_texts"])
    missing = [key for key in needed if key not in block]
    if missing:
        kind = "toyworld" if toyworld else "real-data"
        message = (f"config error at 'case_studies.adversarial': a {kind} analysis dataset "
                   f"needs {', '.join(missing)}")
        return [message]
    typed, asked = block.get("typed"), block.get("instructions", [])
    if typed is not None and len(typed) != len(asked):
        message = (f"config error at 'case_studies.adversarial.typed': {len(typed)} texts for "
                   f"{len(asked)} instructions; give one contrast-image text per instruction")
        return [message]
    return []


TOYWORLD_SPLITS = ("train", "test", "shifted", "edit")


def dataset_splits(block: Mapping) -> list[str] | None:
    """The split names a dataset's pairs carry, or None when only its data can tell (a table
    with its own split column)."""
    kind = block["kind"]
    if kind == "toyworld":
        return list(TOYWORLD_SPLITS)
    if kind == "webdataset":
        return list(block["splits"]) if "splits" in block else [block.get("split", "train")]
    if kind == "coco":
        return [block.get("split_name", block["split"])]
    if kind == "imagefolder":
        return [block.get("split", "val")]
    if kind == "fashioniq":
        return [block["split"]]
    return None


def split_errors(config: Mapping) -> list[str]:
    """Every split a block names must be a split of the dataset it reads."""
    datasets = config["datasets"]
    analysis = config.get("analysis", {}).get("dataset")
    mono = config.get("monosemanticity", {})
    classification = mono.get("classification", {})
    named = [("evaluation.split", config["evaluation"]["dataset"],
              config["evaluation"]["split"])]
    for key in ("dictionary_training", "analysis"):
        if key in config:
            named.append((f"{key}.split", config[key]["dataset"], config[key]["split"]))
    if mono:
        named.append(("monosemanticity.split", mono["dataset"], mono["split"]))
        named.append(("monosemanticity.classification.split",
                      classification.get("dataset", mono["dataset"]), classification["split"]))
    for table, (dataset, split) in intervention_evaluations(config).items():
        named.append((f"interventions.splits.{table}", dataset, split))
    probe_split = config.get("interventions", {}).get("probe_split")
    if probe_split is not None and "table11" in intervention_evaluations(config):
        named.append(("interventions.probe_split", intervention_evaluations(config)["table11"][0],
                      probe_split))
    if "attribute" in config.get("case_studies", {}):
        named.append(("case_studies.attribute.split", analysis,
                      config["case_studies"]["attribute"]["split"]))
    errors = []
    if "dataset" in classification and classification["dataset"] not in datasets:
        errors.append(f"config error at 'monosemanticity.classification.dataset': "
                      f"{classification['dataset']!r} is not a configured dataset; choose one of "
                      f"{sorted(datasets)}")
    for where, dataset, split in named:
        splits = dataset_splits(datasets[dataset]) if dataset in datasets else None
        if splits is not None and split not in splits:
            errors.append(f"config error at '{where}': {split!r} is not a split of dataset "
                          f"{dataset!r}; choose one of {', '.join(map(repr, splits))}")
    return errors


def table1_dictionary(table: Mapping, kind: str, encoder: str) -> str | None:
    """Paper B table 1's ``kind`` (sae / sae_a) dictionary of ``encoder``: one name for every
    encoder, or the encoder's entry of a mapping (None if it has none)."""
    name = table[kind]
    return name.get(encoder) if isinstance(name, Mapping) else name


def text_to_image_errors(config: Mapping) -> list[str]:
    """Case study 3 interpolates on its encoder's raw-dimension MDS groups: ``raw`` must be one
    of that encoder's dictionary targets; real data decodes with Stable unCLIP (``unclip``)."""
    block = config.get("case_studies", {}).get("text_to_image")
    if not block:
        return []
    encoder = block["encoder"]
    errors = []
    if encoder not in config["encoders"]:
        errors.append(f"config error at 'case_studies.text_to_image.encoder': {encoder!r} is not "
                      f"a configured encoder; choose one of {sorted(config['encoders'])}")
    elif "raw" not in config.get("dictionary_targets", {}).get(encoder, []):
        errors.append(f"config error at 'case_studies.text_to_image.encoder': {encoder!r} needs "
                      f"'raw' (architecture identity) in dictionary_targets.{encoder}")
    dataset = config.get("analysis", {}).get("dataset")
    toyworld = config["datasets"].get(dataset, {}).get("kind") == "toyworld"
    if not toyworld and "unclip" not in block:
        errors.append("config error at 'case_studies.text_to_image': a real-data analysis dataset "
                      "needs 'unclip' (the Stable unCLIP pipeline); the toy decoder and judge "
                      "read toyworld scenes only")
    return errors


def image_expert_users(config: Mapping) -> list[str]:
    """The config keys that need the toyworld image expert: the image h of kind toyworld_expert
    and case study 3's toy decoder path (its judge)."""
    users = []
    image = config.get("monosemanticity", {}).get("image_embedder", {})
    if image.get("kind") == "toyworld_expert":
        users.append("monosemanticity.image_embedder")
    block = config.get("case_studies", {}).get("text_to_image")
    if block and "unclip" not in block:
        users.append("case_studies.text_to_image")
    return users


def encoder_gate_errors(config: Mapping) -> list[str]:
    """A per-encoder ``encoder_gates.min_unimodal`` names every configured encoder."""
    setting = config.get("encoder_gates", {}).get("min_unimodal")
    if not isinstance(setting, Mapping):
        return []
    missing = sorted(set(config["encoders"]) - set(setting))
    if not missing:
        return []
    message = (f"config error at 'encoder_gates.min_unimodal': no threshold for encoder(s) "
               f"{missing}; add them or give one number for all")
    return [message]


def image_expert_errors(config: Mapping) -> list[str]:
    """The toyworld image expert must be configured where it is used, on a toyworld dataset."""
    users = image_expert_users(config)
    block = config.get("image_expert")
    if users and not block:
        message = (f"config error at '{users[0]}': it needs the toyworld image expert; add an "
                   "'image_expert' block (dataset, pairs, epochs, width, image_size, "
                   "test_pairs, gates)")
        return [message]
    if block and config["datasets"].get(block["dataset"], {}).get("kind") != "toyworld":
        toyworld = sorted(n for n, d in config["datasets"].items() if d["kind"] == "toyworld")
        message = (f"config error at 'image_expert.dataset': {block['dataset']!r} is not a "
                   f"toyworld dataset; choose one of {toyworld}")
        return [message]
    return []
