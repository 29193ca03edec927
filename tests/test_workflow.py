"""The workflow on config/smoke.yaml, run by snakemake in temporary directories: end to end,
deterministic, rerunning exactly what a config change touches, and stopping bad configs and
targets before any job with one line that names the problem."""

from __future__ import annotations

import io
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


def output_summary(workdir: Path) -> pd.DataFrame:
    """Snakemake's ``--summary`` of ``all``: one row per output file, with its rule, status
    and plan."""
    process = run_ok(workdir, "--summary", "all")
    rows = [line for line in process.stdout.splitlines() if line.count("\t") >= 5]
    return pd.read_csv(io.StringIO("\n".join(rows)), sep="\t")


def forced_jobs(workdir: Path, *outputs: str) -> list[tuple]:
    """The jobs Snakemake plans when ``outputs`` are remade: theirs and every job downstream
    (``--forcerun``), as sorted job keys."""
    process = run_ok(workdir, "-n", "--forcerun", *outputs, "--", "all")
    return sorted(job_key(job) for job in planned_jobs(process.stdout))


# --- (a) end to end -----------------------------------------------------------------------------


def test_every_output_snakemake_plans_was_written(smoke_run):
    """The outputs are Snakemake's own list (``--summary`` of ``all``), not a hand copy of the
    target functions: each is written, not empty, up to date, and every figure the HTML report
    shows is one of them."""
    outputs = output_summary(smoke_run)
    assert len(outputs) > 150, outputs
    stale = outputs[(outputs["status"] != "ok") | (outputs["plan"] != "no update")]
    assert stale.empty, stale
    paths = [smoke_run / path for path in outputs["output_file"]]
    missing = [str(path) for path in paths if not path.exists()]
    assert not missing, missing
    empty = [str(path) for path in paths if path.is_file() and path.stat().st_size == 0]
    assert not empty, empty
    report = (smoke_run / "results/report/index.html").read_text()
    shown = {f"results/{src}" for src in re.findall(r'src="\.\./([^"]+)"', report)}
    assert len(shown) > 10 and shown <= set(outputs["output_file"]), sorted(
        shown - set(outputs["output_file"]))


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
    # exactly the toy encoder's job and everything downstream of it in Snakemake's own DAG
    assert sorted(job_key(job) for job in jobs) == forced_jobs(
        smoke_run, "results/encoders/toyclip/model.pt"), describe(process)
    smoke = yaml.safe_load((smoke_run / "smoke.yaml").read_text())
    mono = smoke["monosemanticity"]
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
    # the dictionary, its seed replicas and everything downstream of them in Snakemake's DAG
    outputs = output_summary(smoke_run)["output_file"]
    trained = [path for path in outputs
               if re.fullmatch(r"results/dictionaries/toyclip/topk/(seed\d+/)?model\.pt", path)]
    assert len(trained) == 2, trained  # smoke.yaml: one stability seed for table 3's columns
    assert sorted(job_key(job) for job in jobs) == forced_jobs(smoke_run, *trained), describe(
        process)
    assert {job["wildcards"].get("method") for job in jobs} <= {None, "topk"}


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
