"""The workflow on config/smoke.yaml, run by snakemake in temporary directories: end to end,
deterministic, rerunning exactly what a config change touches, and stopping bad configs and
targets before any job with one line that names the problem."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from crossmodal.runtime import logged_cpu_seconds
from crossmodal.store import read_embeddings, read_frame

pytestmark = pytest.mark.workflow

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "config" / "smoke.yaml"
ENCODERS = ["toyclip", "toydeclip"]
EMBED_DIM = 32  # smoke.yaml toy_architecture.embed_dim
# (nargs="+": must be followed by another option, not by the targets)
RERUN_TRIGGERS = ["--rerun-triggers", "mtime", "params", "input", "code", "software-env"]


def snakemake(
    workdir: Path, *args: str, configfile: Path | None = None, timeout: int = 900
) -> subprocess.CompletedProcess:
    """Run snakemake on the repository's Snakefile in ``workdir``; stdout and stderr merged."""
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(configfile or workdir / "smoke.yaml"),
        "--cores",
        "2",
        *args,
    ]
    return subprocess.run(
        command,
        check=False,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )


def describe(process: subprocess.CompletedProcess) -> str:
    return f"$ {' '.join(process.args)}\nexit status {process.returncode}\n{process.stdout}"


def run_ok(workdir: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    process = snakemake(workdir, *args, **kwargs)
    if process.returncode != 0:
        print(describe(process))
    assert process.returncode == 0, describe(process)
    return process


def fresh_workdir(tmp_path_factory, name: str, config_text: str | None = None) -> Path:
    workdir = tmp_path_factory.mktemp(name)
    if config_text is None:
        shutil.copy(SMOKE, workdir / "smoke.yaml")
    else:
        (workdir / "smoke.yaml").write_text(config_text)
    return workdir


# CI runs `pytest` and then `pytest -m reliability`; with this variable set both sessions share
# one smoke run (the second reuses it once complete) instead of building it twice.
SHARED_SMOKE_RUN = "CROSSMODAL_SMOKE_RUN_DIR"
SMOKE_COMPLETE = ".smoke-run-complete"


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory) -> Path:
    """The whole workflow (`all`) on smoke.yaml, once for the module (or once for every session
    that sets $CROSSMODAL_SMOKE_RUN_DIR)."""
    shared = os.environ.get(SHARED_SMOKE_RUN)
    if not shared:
        workdir = fresh_workdir(tmp_path_factory, "smoke")
        run_ok(workdir, "all")
        return workdir
    workdir = Path(shared)
    if not (workdir / SMOKE_COMPLETE).is_file():
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        shutil.copy(SMOKE, workdir / "smoke.yaml")
        run_ok(workdir, "all")
        (workdir / SMOKE_COMPLETE).touch()
    return workdir


@pytest.fixture(scope="module")
def second_run(tmp_path_factory) -> Path:
    """Data, toyclip training and toyclip extraction again, in a second fresh directory."""
    workdir = fresh_workdir(tmp_path_factory, "smoke-again")
    run_ok(workdir, "results/embeddings/toyclip/toyworld.parquet")
    return workdir


@pytest.fixture(scope="module")
def second_full_run(tmp_path_factory) -> Path:
    """The whole workflow (`all`) again, in a second fresh directory (marker `reliability`)."""
    workdir = fresh_workdir(tmp_path_factory, "smoke-all-again")
    run_ok(workdir, "all")
    return workdir


# --- dry-run parsing ---------------------------------------------------------------------------


def planned_jobs(output: str) -> list[dict]:
    """The job blocks a (dry) run prints: rule, wildcards and reason of each."""
    jobs, current = [], None
    for line in output.splitlines():
        match = re.match(r"^(?:local)?rule (\w+):$", line)
        if match:
            current = {"rule": match[1], "wildcards": {}, "reason": None}
            jobs.append(current)
        elif current is not None and line.startswith("    "):
            key, _, value = line.strip().partition(": ")
            if key == "wildcards":
                current["wildcards"] = dict(item.split("=", 1) for item in value.split(", "))
            elif key == "reason":
                current["reason"] = value
        else:
            current = None
    return jobs


def job_stats(output: str) -> dict[str, int]:
    """The first "Job stats" table of a run: {rule: count}, without the total."""
    lines = output.splitlines()
    start = lines.index("Job stats:")
    assert re.match(r"^job\s+count$", lines[start + 1]), lines[start + 1]
    assert set(lines[start + 2]) <= {"-", " "}, lines[start + 2]
    counts = {}
    for line in lines[start + 3 :]:
        rule, count = line.split()
        if rule == "total":
            assert int(count) == sum(counts.values())
            return counts
        counts[rule] = int(count)
    raise AssertionError(f"no total line in the job stats:\n{output}")


def job_key(job: dict) -> tuple:
    return job["rule"], tuple(sorted(job["wildcards"].items()))


# --- (a) end to end -----------------------------------------------------------------------------


def test_all_targets_exist(smoke_run):
    expected = [
        "results/data/toyworld/pairs.parquet",
        "results/data/toyworld/edits.parquet",
        "results/tables/encoders.csv",
        "results/tables/encoders.md",
        "results/report/index.html",
    ]
    for encoder in ENCODERS:
        expected += [
            f"results/embeddings/{encoder}/toyworld.parquet",
            f"results/figures/similarity_{encoder}.png",
            f"results/encoders/{encoder}/model.pt",
            f"results/encoders/{encoder}/train_log.parquet",
            f"results/tables/encoders/{encoder}.csv",
        ]
    smoke = yaml.safe_load((smoke_run / "smoke.yaml").read_text())
    for encoder, methods in smoke["dictionary_targets"].items():
        for method in methods:
            expected += [
                f"results/dictionaries/{encoder}/{method}/model.pt",
                f"results/dictionaries/{encoder}/{method}/train_log.parquet",
                f"results/features/{encoder}/{method}/toyworld.parquet",
                f"results/features/{encoder}/{method}/toyworld_concepts.parquet",
            ]
            if smoke["dictionaries"][method]["architecture"] != "ncl":
                expected += [f"results/figures/energy_{encoder}.{method}.png",
                             f"results/figures/unimodal_{encoder}.{method}.png"]
    expected += [
        "results/tables/paperB_table1.csv",
        "results/tables/paperB_table3.csv",
        "results/tables/paperB_table5.csv",
        "results/tables/groundtruth_recovery.csv",
        "results/tables/dictionary_gates.csv",
        "results/figures/mds_groups.png",
        "results/figures/bridge_toyclip.sae.png",
        "results/figures/bridge_toyclip.sae_a.png",
        "results/tables/dictionaries.csv",
        "results/figures/active_latents.png",
        "results/dictionaries/toyclip/sae_a/beta_sweep.csv",
        "results/figures/gap_illustration.png",
        "results/embeddings/toyclip/toyworld.edits.parquet",
        "results/embeddings/toyclip/toyworld.prompts.parquet",
    ]
    expected += [f"results/tables/paperB_table{n}.{ext}" for n in (2, 7, 8, 9, 10, 11, 12)
                 for ext in ("csv", "md")]
    expected += [f"results/tables/paperA_{name}.{ext}" for name in ("table4", "table5",
                                                                      "iclr_table1",
                                                                      "mono_groundtruth")
                 for ext in ("csv", "md")]
    expected += [f"results/figures/mono_{name}.png" for name in ("models", "modality", "training")]
    expected += [f"results/galleries/{target.replace('/', '.')}/index.html"
                 for target in smoke["monosemanticity"]["galleries"]["models"]]
    expected += ["results/monosemanticity/h/toyworld.text.parquet",
                 "results/tables/attribute_asymmetry.csv",
                 "results/figures/attribute_examples.png"]
    expected += ["results/tables/control_measures.csv", "results/figures/control_grid_0.png",
                 "results/case_studies/decoder/toyclip/model.pt"]
    expected += [f"results/tables/paperA_table{n}.{ext}" for n in (1, 2, 3, 6)
                 for ext in ("csv", "md")]
    for encoder in smoke["interventions"]["encoders"]:
        expected += [f"results/interventions/{encoder}/gap_{split}{suffix}"
                     for split in ("train", "test", "shifted")
                     for suffix in (".csv", "_distances.parquet")]
        expected += [f"results/figures/{name}_{encoder}.png"
                     for name in ("gap_knn", "embedding_pca", "arithmetic_ood",
                                  "arithmetic_example")]
    missing = [path for path in expected if not (smoke_run / path).is_file()]
    assert not missing, missing
    empty = [path for path in expected if (smoke_run / path).stat().st_size == 0]
    assert not empty, empty


def test_feature_tables_describe_every_latent_and_concept(smoke_run):
    from crossmodal.dictionaries.checkpoint import load_dictionary
    from crossmodal.world.concepts import indicator_columns

    model, _ = load_dictionary(smoke_run / "results/dictionaries/toyclip/sae/model.pt")
    features = pd.read_parquet(smoke_run / "results/features/toyclip/sae/toyworld.parquet")
    assert list(features["latent"]) == list(range(model.n_latents))
    assert set(features["group"]) <= {"image", "text", "bimodal", "dead"}
    assert set(features["mds_group"]) <= {"ImgD", "TextD", "CrossD", "dead"}
    live = features[~features["dead"]]
    assert ((live["mu"] >= 0) & (live["mu"] <= 1)).all()
    concepts = pd.read_parquet(smoke_run / "results/features/toyclip/sae/toyworld_concepts.parquet")
    assert sorted(concepts["concept"]) == sorted(indicator_columns())
    for modality, shown in (("image", {"bimodal", "image", "attribute"}),
                            ("text", {"bimodal", "text", "attribute"})):
        visible = concepts["modality"].isin(shown)
        best = concepts[f"latent_{modality}"]
        assert best[visible].dropna().between(0, model.n_latents - 1).all()
        assert best[~visible].isna().all()  # a concept this modality cannot show has no latent


def test_every_job_left_a_log_and_a_benchmark(smoke_run):
    jobs = ["data/toyworld", "encoder_table", "report"]
    for encoder in ENCODERS:
        jobs += [
            f"encoders/{encoder}",
            f"embeddings/{encoder}/toyworld",
            f"encoder_quality/{encoder}",
        ]
    missing = [
        f"results/{kind}/{job}.{ext}"
        for job in jobs
        for kind, ext in (("logs", "log"), ("benchmarks", "tsv"))
        if not (smoke_run / f"results/{kind}/{job}.{ext}").is_file()
    ]
    assert not missing, missing
    benchmark = pd.read_csv(smoke_run / "results/benchmarks/encoders/toyclip.tsv", sep="\t")
    assert len(benchmark) == 1 and benchmark["s"].iloc[0] > 0
    # every job log ends with the job's exact CPU time (crossmodal.runtime.CPU_LINE)
    logs = sorted((smoke_run / "results/logs").rglob("*.log"))
    last_lines = {log: log.read_text().splitlines()[-1] for log in logs}
    not_ending = [str(log) for log, line in last_lines.items()
                  if logged_cpu_seconds(line) is None]
    assert len(logs) > 50 and not not_ending, not_ending


def test_nothing_left_to_do_after_the_run(smoke_run):
    process = run_ok(smoke_run, *RERUN_TRIGGERS, "-n", "all")
    assert "Nothing to be done" in process.stdout, describe(process)
    assert planned_jobs(process.stdout) == [], describe(process)


@pytest.mark.parametrize("command", ["--report results/report/snakemake.html",
                                     "--cores 1 --report results/report/snakemake.html"])
def test_the_readmes_report_commands_on_the_finished_run(smoke_run, command):
    """README: Snakemake's own report, with and without --cores (tests/test_readme_commands.py
    runs the README's other commands)."""
    report = smoke_run / "results/report/snakemake.html"
    report.unlink(missing_ok=True)
    run_ok(smoke_run, *command.split())
    assert report.stat().st_size > 100_000


@pytest.mark.parametrize("encoder", ENCODERS)
def test_embeddings_are_unit_norm_float32_pairs(smoke_run, encoder):
    pairs = read_frame(
        smoke_run / "results/data/toyworld/pairs.parquet", columns=["pair_id", "split"]
    )
    embeddings = read_embeddings(smoke_run / f"results/embeddings/{encoder}/toyworld.parquet")
    n = len(pairs)
    assert n > 0
    for vectors in (embeddings.image, embeddings.text):
        assert vectors.dtype == np.float32
        assert vectors.shape == (n, EMBED_DIM)
        assert np.isfinite(vectors).all()
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert list(embeddings.pairs["pair_id"]) == list(pairs["pair_id"])
    assert list(embeddings.pairs["split"]) == list(pairs["split"])
    metadata = embeddings.metadata
    assert metadata["encoder"] == encoder
    assert metadata["pretrained"] == f"results/encoders/{encoder}/model.pt"
    assert metadata["normalisation"] == "l2"
    assert metadata["dim"] == str(EMBED_DIM)
    assert metadata["dataset"] == "toyworld"


def test_encoder_table_has_one_row_per_encoder_and_the_reference(smoke_run):
    table = pd.read_csv(smoke_run / "results/tables/encoders.csv")
    assert len(table) == len(ENCODERS) + 1
    assert list(table["encoder"][: len(ENCODERS)]) == ENCODERS
    reference = table.iloc[-1]
    assert reference["backend"] == "reference" and "paper" in reference["encoder"]
    for column in ["recall@1", "recall@5", "gap_dim", "zero_shot_shape", "zero_shot_colour"]:
        assert column in table.columns, column
    encoders = table.iloc[: len(ENCODERS)]
    for column in ["recall@1", "recall@5", "zero_shot_shape", "zero_shot_colour"]:
        assert encoders[column].between(0, 1).all(), (column, encoders[column].tolist())
    assert (encoders["recall@5"] >= encoders["recall@1"]).all()
    assert (encoders["gap_dim"] > 0).all()
    markdown = (smoke_run / "results/tables/encoders.md").read_text()
    for encoder in ENCODERS:
        assert encoder in markdown
    assert all(
        encoder in (smoke_run / "results/report/index.html").read_text() for encoder in ENCODERS
    )


# --- determinism --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "results/data/toyworld/pairs.parquet",
        "results/data/toyworld/edits.parquet",
        "results/embeddings/toyclip/toyworld.parquet",
    ],
)
def test_second_run_gives_identical_bytes(smoke_run, second_run, path):
    first, second = (smoke_run / path).read_bytes(), (second_run / path).read_bytes()
    assert first == second, f"{path} differs between {smoke_run} and {second_run}"


# Columns that measure the run rather than the science: dictionaries.csv reports each
# dictionary's training wall time (train_seconds, from its benchmark file).
TIMING_COLUMNS = {"results/tables/dictionaries.csv": ["train_seconds"]}


@pytest.mark.reliability
def test_two_clean_runs_give_identical_tables(smoke_run, second_full_run):
    second_run = second_full_run
    tables = sorted(str(p.relative_to(smoke_run)) for p in (smoke_run / "results/tables")
                    .rglob("*.csv"))
    again = sorted(str(p.relative_to(second_run)) for p in (second_run / "results/tables")
                   .rglob("*.csv"))
    assert tables == again
    # the run's tables span every stage: dictionaries, paper B, paper A and the case studies
    assert {"results/tables/dictionaries.csv", "results/tables/paperB_table1.csv",
            "results/tables/paperA_table4.csv", "results/tables/paperA_table1.csv",
            "results/tables/paperA_table3.csv", "results/tables/control_measures.csv"
            } <= set(tables), tables
    assert len(tables) >= 25, tables
    differing = [t for t in tables if (smoke_run / t).read_bytes() != (second_run / t).read_bytes()]
    assert sorted(differing) == sorted(TIMING_COLUMNS), differing
    for table, columns in TIMING_COLUMNS.items():
        first, second = pd.read_csv(smoke_run / table), pd.read_csv(second_run / table)
        assert list(first.columns) == list(second.columns)
        assert (first[columns] > 0).all().all(), first[columns]
        # everything but the wall time is byte-identical once that column is dropped
        assert (first.drop(columns=columns).to_csv(index=False)
                == second.drop(columns=columns).to_csv(index=False)), table


# --- (b) a config change reruns exactly the dependent rules -----------------------------------


def _with_toyclip_epochs(config_text: str, epochs: int) -> str:
    """``config_text`` with toyclip's epochs changed, everything else (key order too) kept."""
    changed, count = re.subn(
        r"(toyclip:\n(?:    .*\n)*?    training: \{epochs: )1,", rf"\g<1>{epochs},", config_text
    )
    assert count == 1, "smoke.yaml layout changed: cannot find toyclip's training.epochs"
    expected = yaml.safe_load(config_text)
    expected["encoders"]["toyclip"]["training"]["epochs"] = epochs
    assert yaml.safe_load(changed) == expected
    return changed


def test_changing_toyclip_epochs_reruns_exactly_its_dependents(smoke_run):
    config = smoke_run / "epochs2.yaml"
    config.write_text(_with_toyclip_epochs((smoke_run / "smoke.yaml").read_text(), 2))
    process = run_ok(smoke_run, *RERUN_TRIGGERS, "-n", "all", configfile=config)
    output = process.stdout

    jobs = planned_jobs(output)
    smoke = yaml.safe_load((smoke_run / "smoke.yaml").read_text())
    dictionaries = smoke["dictionary_targets"]["toyclip"]
    sweeps = [m for m in dictionaries if smoke["dictionaries"][m].get("beta") == "auto"]
    with_atoms = [m for m in dictionaries if smoke["dictionaries"][m]["architecture"] != "ncl"]
    panels = smoke["analysis"]["mds_panels"].values()
    mds_figures = int(any(target.startswith("toyclip/") for target in panels))
    in_table3 = sorted(smoke["paper_b"]["table3"]["columns"].values())
    table1 = [smoke["paper_b"]["table1"]["sae"], smoke["paper_b"]["table1"]["sae_a"]]
    measured = sorted({*in_table3, *table1})
    splits = sorted(smoke["interventions"]["splits"].values())
    mono = smoke["monosemanticity"]

    def toyclip_methods(targets):
        return sorted({t.split("/")[1] for t in targets if t.startswith("toyclip/")})

    mono_jobs = [
        # toyclip's models are rescored; DeCLIP's are not: the image h is the toyworld image
        # expert, which no encoder trains
        *[("monosemanticity_scores", tuple(zip(("encoder", "method"), t.split("/"))))
          for t in sorted(set(mono["models"].values())) if t.startswith("toyclip/")],
        *[("monosemanticity_over_training", (("encoder", "toyclip"), ("method", m)))
          for m in toyclip_methods(mono["training_curves"])],
        *[("feature_gallery", (("encoder", "toyclip"), ("method", m)))
          for m in toyclip_methods(mono["galleries"]["models"])],
        ("paper_a_monosemanticity", ()),
        ("modality_classification", ()),
        ("mono_groundtruth", ()),
        ("attribute_study", ()),
        ("adversarial_study", ()),
        ("train_image_decoder", (("encoder", "toyclip"),)),
        # train_image_expert and embed_h (image) are not here: the expert learns from rendered
        # scenes, not toyclip, and it is the image h
        ("text_to_image_control", ()),
    ]
    intervention_jobs = [
        ("embed_edit_captions", (("dataset", "toyworld"), ("encoder", "toyclip"))),
        ("embed_class_prompts", (("dataset", "toyworld"), ("encoder", "toyclip"))),
        *[("gap_removal", (("encoder", "toyclip"), ("split", split))) for split in splits],
        ("gap_figures", (("encoder", "toyclip"),)),
        ("vector_arithmetic", (("encoder", "toyclip"),)),
        ("paper_b_intervention_tables", ()),
    ]
    assert sorted(job_key(job) for job in jobs) == sorted(
        [
            ("train_toy_encoder", (("encoder", "toyclip"),)),
            ("extract_embeddings", (("dataset", "toyworld"), ("encoder", "toyclip"))),
            ("encoder_quality", (("encoder", "toyclip"),)),
            ("encoder_table", ()),
            *[("train_dictionary", (("encoder", "toyclip"), ("method", m))) for m in dictionaries],
            *[("beta_sweep", (("encoder", "toyclip"), ("method", m))) for m in sweeps],
            *[("latent_features", (("dataset", "toyworld"), ("encoder", "toyclip"), ("method", m)))
              for m in dictionaries],
            *[("modality_figures", (("encoder", "toyclip"), ("method", m))) for m in with_atoms],
            *[("mds_figure", ())] * mds_figures,
            *[("dictionary_metrics", (("encoder", "toyclip"), ("method", m))) for m in measured],
            *[("train_dictionary_replica", (("encoder", "toyclip"), ("method", m), ("seed", "1")))
              for m in in_table3],
            ("paper_b_table1", ()),
            *[("bridge_figure", (("encoder", "toyclip"), ("method", m))) for m in table1],
            ("paper_b_architecture_table", (("table", "table3"),)),
            ("groundtruth_recovery", ()),
            ("dictionary_table", ()),
            ("dictionary_gates", ()),
            *intervention_jobs,
            *mono_jobs,
            ("report", ()),
            ("all", ()),
        ]
    ), describe(process)
    assert job_stats(output) == {
        "train_toy_encoder": 1,
        "extract_embeddings": 1,
        "encoder_quality": 1,
        "encoder_table": 1,
        "train_dictionary": len(dictionaries),
        "beta_sweep": len(sweeps),
        "latent_features": len(dictionaries),
        "modality_figures": len(with_atoms),
        **({"mds_figure": 1} if mds_figures else {}),
        "dictionary_metrics": len(measured),
        "train_dictionary_replica": len(in_table3),
        "paper_b_table1": 1,
        "bridge_figure": len(table1),
        "paper_b_architecture_table": 1,
        "groundtruth_recovery": 1,
        "dictionary_table": 1,
        "dictionary_gates": 1,
        "embed_edit_captions": 1,
        "embed_class_prompts": 1,
        "gap_removal": len(splits),
        "gap_figures": 1,
        "vector_arithmetic": 1,
        "paper_b_intervention_tables": 1,
        **{rule: sum(1 for job in mono_jobs if job[0] == rule)
           for rule in dict.fromkeys(job[0] for job in mono_jobs)},
        "report": 1,
        "all": 1,
    }, describe(process)
    assert mono["image_embedder"] == {"kind": "toyworld_expert"}
    assert not any("toydeclip" in job["wildcards"].values() for job in jobs)

    train = next(job for job in jobs if job["rule"] == "train_toy_encoder")
    assert train["reason"].startswith("Params have changed since last execution"), train
    assert "'epochs': 1" in train["reason"] and "'epochs': 2" in train["reason"], train
    assert re.search(
        r"params have changed since last execution:\n\s+train_toy_encoder\n", output
    ), describe(process)


# --- (c) bad config and bad targets stop before any job ----------------------------------------


def _single_line_with(output: str, *parts: str) -> str:
    lines = [line for line in output.splitlines() if all(part in line for part in parts)]
    assert lines, f"no line contains all of {parts}:\n{output}"
    return lines[0]


def test_unknown_backend_stops_before_any_job(tmp_path_factory):
    text = SMOKE.read_text()
    config = yaml.safe_load(text)
    changed, count = re.subn(r"(toyclip:\n    backend: )toy\n", r"\g<1>foo\n", text)
    assert count == 1
    config["encoders"]["toyclip"]["backend"] = "foo"
    assert yaml.safe_load(changed) == config
    workdir = fresh_workdir(tmp_path_factory, "bad-backend", changed)

    process = snakemake(workdir, "all")  # a real run: must fail while parsing the workflow
    assert process.returncode != 0, describe(process)
    line = _single_line_with(process.stdout, "encoders.toyclip.backend", "'toy', 'open_clip'")
    assert line.startswith("config error at 'encoders.toyclip.backend'"), line
    assert "Building DAG" not in process.stdout, describe(process)
    assert "Traceback" not in process.stdout, describe(process)
    assert not (workdir / "results").exists()


def test_case_studies_target_plans_only_what_the_case_studies_need(tmp_path_factory):
    workdir = fresh_workdir(tmp_path_factory, "case-studies")
    process = run_ok(workdir, "-n", "case_studies")
    jobs = planned_jobs(process.stdout)
    assert sorted(job["rule"] for job in jobs) == sorted([
        "toyworld_data", "train_toy_encoder", "extract_embeddings",
        "train_dictionary", "train_dictionary", "latent_features", "latent_features",
        "attribute_study", "adversarial_study", "train_image_decoder", "train_image_expert",
        "text_to_image_control", "case_studies"]), describe(process)
    # one encoder (the case studies' toyclip) and its raw dimensions and Multimodal SAE only
    assert {job["wildcards"].get("encoder") for job in jobs} == {None, "toyclip"}
    assert {job["wildcards"]["method"] for job in jobs if job["rule"] == "train_dictionary"} == {
        "raw", "mm_topk"}


def test_unknown_dataset_in_target_stops_before_any_job(tmp_path_factory):
    workdir = fresh_workdir(tmp_path_factory, "bad-target")
    process = snakemake(workdir, "results/embeddings/toyclip/nosuch.parquet")
    assert process.returncode != 0, describe(process)
    _single_line_with(process.stdout, "'nosuch'", "'toyworld'")
    assert planned_jobs(process.stdout) == [], describe(process)
    assert "Job stats" not in process.stdout, describe(process)
    assert not (workdir / "results").exists()


def test_changing_one_dictionary_retrains_only_that_dictionary(smoke_run):
    config = smoke_run / "topk_k.yaml"
    text = (smoke_run / "smoke.yaml").read_text()
    changed = text.replace(
        "topk: {architecture: topk, expansion: 2, k: 4, beta: 0}",
        "topk: {architecture: topk, expansion: 2, k: 3, beta: 0}",
    )
    assert changed != text
    config.write_text(changed)
    process = run_ok(smoke_run, *RERUN_TRIGGERS, "-n", "all", configfile=config)
    jobs = planned_jobs(process.stdout)
    assert sorted(job_key(job) for job in jobs) == sorted(
        [
            ("train_dictionary", (("encoder", "toyclip"), ("method", "topk"))),
            ("latent_features", (("dataset", "toyworld"), ("encoder", "toyclip"),
                                 ("method", "topk"))),
            ("modality_figures", (("encoder", "toyclip"), ("method", "topk"))),
            ("dictionary_metrics", (("encoder", "toyclip"), ("method", "topk"))),
            ("train_dictionary_replica", (("encoder", "toyclip"), ("method", "topk"),
                                          ("seed", "1"))),
            ("paper_b_architecture_table", (("table", "table3"),)),
            ("groundtruth_recovery", ()),
            ("mono_groundtruth", ()),
            ("dictionary_table", ()),
            ("dictionary_gates", ()),
            ("report", ()),
            ("all", ()),
        ]
    ), describe(process)


def test_dictionary_checkpoint_records_how_it_was_trained(smoke_run):
    from crossmodal.dictionaries.checkpoint import load_dictionary

    model, facts = load_dictionary(
        smoke_run / "results/dictionaries/toyclip/sae_a/model.pt", expected_d=32
    )
    sweep = pd.read_csv(smoke_run / "results/dictionaries/toyclip/sae_a/beta_sweep.csv")
    assert facts["beta"] == sweep.loc[sweep["selected"], "beta"].item()
    assert facts["alignment"] == "paper" and facts["spec"]["architecture"] == "mp"
    assert model.n_latents == 64
    checkpoints = sorted(
        (smoke_run / "results/dictionaries/toyclip/sae/checkpoints").glob("step_*.pt")
    )
    assert checkpoints, "checkpoint_every: 2 should leave intermediate checkpoints"


# --- a FashionIQ download is one config entry ---------------------------------------------------


def _tiny_fashioniq(root: Path) -> None:
    import io
    import json

    from PIL import Image

    for folder in ("captions", "image_splits", "images"):
        (root / folder).mkdir(parents=True)
    for name, colour in (("a", (255, 0, 0)), ("b", (0, 0, 255)), ("c", (0, 255, 0))):
        buffer = io.BytesIO()
        Image.new("RGB", (8, 8), colour).save(buffer, format="PNG")
        (root / "images" / f"{name}.png").write_bytes(buffer.getvalue())
    (root / "image_splits" / "split.dress.val.json").write_text(json.dumps(["a", "b", "c"]))
    (root / "captions" / "cap.dress.val.json").write_text(json.dumps([
        {"candidate": "a", "target": "b", "captions": ["is blue", "is darker"]},
        {"candidate": "b", "target": "c", "captions": ["is green"]},
    ]))


def test_a_fashioniq_dataset_entry_writes_pairs_and_edits(tmp_path_factory):
    root = tmp_path_factory.mktemp("fashioniq")
    _tiny_fashioniq(root)
    config = yaml.safe_load(SMOKE.read_text())
    config["datasets"]["fiq"] = {"kind": "fashioniq", "root": str(root), "split": "val",
                                 "categories": ["dress"]}
    config["interventions"]["arithmetic_dataset"] = "fiq"
    workdir = fresh_workdir(tmp_path_factory, "fiq", yaml.safe_dump(config))
    run_ok(workdir, "results/data/fiq/edits.parquet")
    pairs = pd.read_parquet(workdir / "results/data/fiq/pairs.parquet")
    edits = pd.read_parquet(workdir / "results/data/fiq/edits.parquet")
    assert sorted(pairs["pair_id"]) == ["dress/a", "dress/b", "dress/c"]
    assert edits["edit_id"].tolist() == [0, 0, 1]
    assert set(edits["source_pair_id"]) | set(edits["target_pair_id"]) <= set(pairs["pair_id"])
    # the arithmetic of every intervention encoder now reads the FashionIQ triplets
    plan = run_ok(workdir, "-n", "results/interventions/toyclip/arithmetic.csv").stdout
    assert "results/embeddings/toyclip/fiq.edits.parquet" in plan, plan
