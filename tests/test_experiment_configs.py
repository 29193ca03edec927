"""The real-model experiment configs (config/experiments/): each is valid against the schema and
its references, and `snakemake -n all` on it plans the papers' DAG — with the default
config/config.yaml present in the working directory, as in a run from the checkout, so a leak of
the embedded toyworld default into an experiment would show as toy jobs. The data and weight
paths (the `paths:` block of each file) are rewritten to dummy files and folders the test makes;
a dry run reads none of them."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from crossmodal.config import check_config
from crossmodal.config_layers import load_layered, resolve_paths
from crossmodal.plan import embedded_datasets, trained_dictionaries

# two dry runs, ~4 s each on 2 idle cores: not marked `workflow`

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = ROOT / "config" / "experiments"
SCHEMA = ROOT / "config" / "schema.yaml"
PAPER_B_ENCODERS = ["clip_b32", "clip_l14", "openclip_b32", "openclip_l14", "siglip", "siglip2"]
PAPER_B_BETAS = {"clip_b32": 4e-4, "clip_l14": 1e-4, "openclip_b32": 4e-4, "openclip_l14": 2e-4,
                 "siglip": 1e-4, "siglip2": 7e-5}
TOY_RULES = {"toyworld_data", "train_toy_encoder", "train_image_decoder", "train_image_expert",
             "groundtruth_recovery", "mono_groundtruth"}


def load(name: str) -> dict:
    return yaml.safe_load((EXPERIMENTS / name).read_text())


def replace_strings(value, mapping: dict):
    """``value`` with every string equal to a key of ``mapping`` replaced, recursively."""
    if isinstance(value, dict):
        return {k: replace_strings(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_strings(v, mapping) for v in value]
    return mapping.get(value, value) if isinstance(value, str) else value


def dummy_path(root: Path, name: str, original: str) -> str:
    """A placeholder standing in for one `paths:` entry: an empty file, a brace pattern of empty
    tar shards, or an empty directory, under ``root``."""
    target = root / "dummy" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if original.endswith(".tar"):  # shard pattern: two empty shards
        target.mkdir(parents=True, exist_ok=True)
        for index in range(2):
            (target / f"{index:05d}.tar").touch()
        return str(target / "{00000..00001}.tar")
    if Path(original).suffix:  # a file (checkpoint, class names, image)
        target = target.with_suffix(Path(original).suffix)
        target.touch()
        return str(target)
    if original.startswith("data/"):  # a dataset directory
        target.mkdir(parents=True, exist_ok=True)
        return str(target)
    return original  # a hub name or tag: nothing local to stand in for


def rewritten(name: str, workdir: Path) -> tuple[dict, Path]:
    """The experiment config with its data and weight paths pointing at dummies in ``workdir``,
    written to ``workdir``; the default config/config.yaml is copied next to it."""
    config = load(name)
    mapping = {original: dummy_path(workdir, key, original)
               for key, original in config["paths"].items() if isinstance(original, str)}
    config = replace_strings(config, mapping)
    path = workdir / name
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    (workdir / "config").mkdir(exist_ok=True)
    shutil.copy(ROOT / "config" / "config.yaml", workdir / "config" / "config.yaml")
    return resolve_paths(config), path


def dry_run(workdir: Path, configfile: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"),
               "--directory", str(workdir), "-n", "all", "--cores", "2", *extra,
               "--configfile", str(configfile)]
    return subprocess.run(command, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=300, check=False)


def planned(output: str) -> list[tuple[str, dict]]:
    """(rule, wildcards) of every job a dry run prints."""
    jobs, current = [], None
    for line in output.splitlines():
        match = re.match(r"^(?:local)?rule (\w+):$", line)
        if match:
            current = (match[1], {})
            jobs.append(current)
        elif current is not None and line.strip().startswith("wildcards: "):
            value = line.strip()[len("wildcards: "):]
            current[1].update(item.split("=", 1) for item in value.split(", "))
    return jobs


def plan(tmp_path_factory, name: str) -> tuple[dict, list[tuple[str, dict]], Counter]:
    workdir = tmp_path_factory.mktemp(name.removesuffix(".yaml"))
    config, path = rewritten(name, workdir)
    # the hub weights are not on a test machine: plan without the preflight checks
    process = dry_run(workdir, path, "--config", "preflight=false")
    assert process.returncode == 0, f"$ {' '.join(process.args)}\n{process.stdout}"
    jobs = planned(process.stdout)
    return config, jobs, Counter(rule for rule, _ in jobs)


def test_a_plan_names_every_missing_dataset_and_weight_one_line_each(tmp_path):
    config, path = rewritten("paperB-six-models.yaml", tmp_path)
    shutil.rmtree(Path(config["paths"]["coco_root"]))  # one dataset root missing too
    process = dry_run(tmp_path, path)
    assert process.returncode != 0
    lines = process.stdout.splitlines()
    missing = [line for line in lines if line.startswith(("encoders.", "datasets."))]
    assert sorted(line.split(":")[0] for line in missing) == sorted(
        ["datasets.coco.root"] + [f"encoders.{name}" for name in config["encoders"]])
    assert any("hf download openai/clip-vit-base-patch32" in line for line in missing)
    assert "preflight=false" in process.stdout


def test_a_paper_a_plan_names_every_missing_hub_model(tmp_path):
    """Paper A's image embedder, labeller, LLaVA victim, its judge and Stable unCLIP are hub
    names with nothing local to stand in for: the plan names each, with the download command."""
    config, path = rewritten("paperA-clip-vitb32.yaml", tmp_path)
    process = dry_run(tmp_path, path)
    assert process.returncode != 0
    lines = [line for line in process.stdout.splitlines()
             if line.startswith(("monosemanticity.", "case_studies."))]
    assert sorted(line.split(":")[0] for line in lines) == [
        "case_studies.adversarial.victim.judge.model", "case_studies.adversarial.victim.model",
        "case_studies.attribute.labeller.model",
        "case_studies.text_to_image.unclip.pipeline", "monosemanticity.image_embedder.model"]
    paths = config["paths"]
    assert any(f"hf download {paths['unclip_pipeline']}" in line for line in lines), lines
    assert any(f"hf download {paths['gender_classifier']}" in line for line in lines), lines
    assert any(f"hf download {paths['judge_model']}" in line for line in lines), lines


@pytest.fixture(scope="module")
def paper_a(tmp_path_factory):
    return plan(tmp_path_factory, "paperA-clip-vitb32.yaml")


@pytest.fixture(scope="module")
def paper_b(tmp_path_factory):
    return plan(tmp_path_factory, "paperB-six-models.yaml")


@pytest.mark.parametrize("name", sorted(p.name for p in EXPERIMENTS.glob("*.yaml")))
def test_experiment_config_is_valid(name):
    config = load_layered([EXPERIMENTS / name], ROOT / "config" / "config.yaml")
    check_config(config, SCHEMA)
    assert "paths" in config, "keep the data and weight locations in a `paths:` block at the top"


def test_paper_a_plans_clip_declip_sae_ncl_and_the_case_studies(paper_a):
    config, jobs, counts = paper_a
    assert not TOY_RULES & set(counts), "toyworld jobs leaked into the real experiment"
    assert config["encoders"]["clip"] == {"backend": "open_clip", "name": "ViT-B-32",
                                          "pretrained": "openai", "cache_dir": None,
                                          "precision": "fp16"}     # on a GPU; fp32 on the CPU
    assert {block["precision"] for block in config["encoders"].values()} == {"fp16"}
    assert config["dictionaries"]["mm_topk"]["k"] == 32
    assert config["dictionaries"]["mm_topk"]["expansion"] == 1  # n = d
    assert counts["webdataset_data"] == 1 and counts["coco_data"] == 1
    extracted = {(w["encoder"], w["dataset"]) for r, w in jobs if r == "extract_embeddings"}
    assert extracted == {(e, d) for e in ("clip", "declip", "clip_h14") for d in ("cc3m", "coco")}
    trained = {(w["encoder"], w["method"]) for r, w in jobs if r == "train_dictionary"}
    assert {("clip", "mm_topk"), ("clip", "ncl"), ("declip", "raw"),
            ("clip_h14", "raw")} <= trained
    assert "beta_sweep" not in counts
    for rule in ("attribute_labels", "attribute_study", "adversarial_study",
                 "text_to_image_control", "monosemanticity_scores", "modality_classification",
                 "mds_figure", "paper_a_monosemanticity", "report"):
        assert counts[rule] >= 1, rule
    features = {(w["encoder"], w["method"], w["dataset"])
                for r, w in jobs if r == "latent_features"}
    # ViT-H-14 embeds only cc3m test (case study 3) and COCO val (the ICLR table), not cc3m train
    assert config["extract"]["splits"] == {"clip_h14": ["test", "val"]}
    assert config["monosemanticity"]["classification"]["split"] == "val"
    assert ("clip_h14", "raw", "cc3m") in features  # unCLIP's MDS groups
    assert ("clip_h14", "raw", "coco") in features  # ICLR table 1 on COCO


def test_paper_b_plans_six_encoders_four_datasets_and_both_sae_a(paper_b):
    config, jobs, counts = paper_b
    assert not TOY_RULES & set(counts), "toyworld jobs leaked into the real experiment"
    models = {name: block["model"] for name, block in config["encoders"].items()}
    assert sorted(models) == sorted(PAPER_B_ENCODERS)
    assert all(block["backend"] == "transformers" for block in config["encoders"].values())
    for rule in ("webdataset_data", "coco_data", "imagefolder_data", "fashioniq_data"):
        assert counts[rule] == 1, rule
    extracted = {(w["encoder"], w["dataset"]) for r, w in jobs if r == "extract_embeddings"}
    assert extracted == {(e, d) for e in PAPER_B_ENCODERS
                         for d in ("laion", "coco", "imagenet", "fashioniq")}
    trained = {(w["encoder"], w["method"]) for r, w in jobs if r == "train_dictionary"}
    for encoder, beta in PAPER_B_BETAS.items():
        assert config["dictionaries"][f"sae_a_{encoder}"]["beta"] == pytest.approx(beta)
        assert {(encoder, "sae"), (encoder, f"sae_a_{encoder}"), (encoder, "sae_a_auto")} <= trained
    swept = {(w["encoder"], w["method"]) for r, w in jobs if r == "beta_sweep"}
    assert swept == {(e, "sae_a_auto") for e in PAPER_B_ENCODERS}
    # table 1's dictionaries, and every MP dictionary for its gates (sae_a_auto too)
    measured = {(w["encoder"], w["method"]) for r, w in jobs if r == "dictionary_metrics"}
    architectures = {("clip_b32", m) for m in ("relu", "jumprelu", "topk", "batchtopk")}
    expansion_64 = {("clip_b32", m) for m in ("relu_x64", "jumprelu_x64", "topk_x64",
                                              "batchtopk_x64", "sae_x64", "sae_a_x64")}
    assert measured == {(e, m) for e in PAPER_B_ENCODERS
                        for m in ("sae", f"sae_a_{e}", "sae_a_auto")} | architectures | expansion_64
    assert counts["paper_b_table1"] == 1 and counts["report"] == 1
    assert counts["paper_b_architecture_table"] == 2                  # tables 3 and 4
    assert counts["dictionary_gates"] == 1


def test_paper_b_interventions_evaluate_laion_coco_imagenet_and_fashioniq(paper_b):
    config, jobs, counts = paper_b
    evaluated = {(w["encoder"], w["dataset"], w["split"]) for r, w in jobs if r == "gap_removal"}
    assert evaluated == {(e, d, s) for e in PAPER_B_ENCODERS
                         for d, s in (("laion", "train"), ("coco", "train"), ("imagenet", "val"))}
    prompts = {(w["encoder"], w["dataset"]) for r, w in jobs if r == "embed_class_prompts"}
    assert prompts == {(e, "imagenet") for e in PAPER_B_ENCODERS}     # table 11's classes
    edits = {(w["encoder"], w["dataset"]) for r, w in jobs if r == "embed_edit_captions"}
    assert edits == {(e, "fashioniq") for e in PAPER_B_ENCODERS}      # tables 2, 7, 8
    assert counts["vector_arithmetic"] == len(PAPER_B_ENCODERS)
    assert counts["paper_b_intervention_tables"] == 1
    # each model's interventions go through its own SAE-A (the authors' β)
    for encoder in PAPER_B_ENCODERS:
        assert config["interventions"]["dictionary"][encoder] == f"sae_a_{encoder}"


@pytest.mark.parametrize("fixture", ["paper_a", "paper_b"])
def test_the_plan_lists_exactly_the_embeddings_a_dry_run_extracts(request, fixture):
    config, jobs, _ = request.getfixturevalue(fixture)
    extracted = {(w["encoder"], w["dataset"]) for r, w in jobs if r == "extract_embeddings"}
    assert embedded_datasets(config) == extracted
    trained = {(w["encoder"], w["method"]) for r, w in jobs if r == "train_dictionary"}
    planned_runs = {(e, m) for e, m, _ in trained_dictionaries(config)}
    assert planned_runs == trained
    replicas = sum(1 for r, _ in jobs if r == "train_dictionary_replica")
    assert len(trained_dictionaries(config)) == len(trained) + replicas


def test_the_plan_of_the_default_config_matches_its_dry_run(tmp_path):
    shutil.copytree(ROOT / "config", tmp_path / "config")
    process = dry_run(tmp_path, tmp_path / "config" / "config.yaml")
    assert process.returncode == 0, process.stdout
    jobs = planned(process.stdout)
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    assert embedded_datasets(config) == {(w["encoder"], w["dataset"]) for r, w in jobs
                                         if r == "extract_embeddings"}
    trained = {(w["encoder"], w["method"]) for r, w in jobs if r == "train_dictionary"}
    assert {(e, m) for e, m, _ in trained_dictionaries(config)} == trained
