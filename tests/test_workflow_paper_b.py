"""Paper B's real-data experiment end to end on tiny fake data: `snakemake all` on
config/experiments/paperB-six-models.yaml with one overrides file layered after it, the way a
user points the experiment at their data (README "Running the papers' experiments").

The fixture writes the four dataset kinds in their release layouts — LAION as img2dataset
webdataset tars, COCO 2017, an ImageNet-val class folder with imagenet_class_index.json, and
FashionIQ — and two randomly initialised real architectures: open_clip's ViT-B-32 (no pretrained
weights) as ``clip_b32`` and a tiny transformers ``SiglipModel`` saved with ``save_pretrained`` as
``siglip``. The overrides keep the experiment's rules, dictionaries, tables and interventions and
only shrink them: two encoders instead of six, one epoch, few β, expansions 8 and 64 cut to 1
and 2, few bootstrap resamples. The checks are on what the run wrote: every paper B table, the
gap-removal outputs of the three evaluated datasets, the report, the pair counts and widths.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import transformers
import yaml
from tokenizers import Tokenizer, models, pre_tokenizers, processors

from crossmodal.data import CLIP_TEMPLATES
from crossmodal.store import read_embeddings, read_vectors
from datafiles import corrupt_jpeg, jpeg_bytes, write_file, write_tar
from test_workflow import ROOT, describe

pytestmark = [pytest.mark.workflow, pytest.mark.experiment]  # `pytest -m experiment`

EXPERIMENT = ROOT / "config" / "experiments" / "paperB-six-models.yaml"
# the two encoders kept of the experiment's six: its names, so that its per-encoder blocks
# (the authors' β of each, tables 3 and 4 on clip_b32) apply unchanged
ENCODERS = ["clip_b32", "siglip"]
WIDTHS = {"clip_b32": 512, "siglip": 32}  # ViT-B-32's embedding; the tiny SigLIP's towers
IMAGE_SIZE = (48, 40)

COLOURS = ["red", "blue", "green", "yellow", "black", "white"]
THINGS = ["dog", "cat", "car", "house", "tree", "boat", "bird", "chair"]
PLACES = ["on the grass", "in the city", "near the sea", "at night"]

LAION_SHARDS, LAION_PER_SHARD = 2, 32  # 64 usable pairs, plus one corrupt JPEG in shard 1
COCO_IMAGES, COCO_CAPTIONS = 12, 2  # one pair per caption: 24
IMAGENET = {"n01440764": "tench", "n01443537": "goldfish", "n01484850": "great white shark",
            "n01491361": "tiger shark"}
IMAGENET_PER_CLASS = 8  # 32 pairs
FASHIONIQ_CATEGORIES = yaml.safe_load(EXPERIMENT.read_text())["datasets"]["fashioniq"][
    "categories"]
FASHIONIQ_GALLERY, FASHIONIQ_TRIPLETS = 5, 4  # per category
FASHIONIQ_EDITS = ["is darker and longer", "has short sleeves", "is more colourful",
                   "has a print"]

# the overrides' sizes
INTERVENTION_PAIRS, PROBE_PAIRS = 24, 12
# the dictionaries' expansions, 8 and 64 (K = 4096 and 32768 at d = 512), shrunk: at K = 4096
# one dictionary's metrics took 20-50 s here
EXPANSIONS = {8: 1, 64: 2}


def caption(index: int) -> str:
    """A short caption made of the shared vocabulary (distinct for neighbouring indices)."""
    return (f"a {COLOURS[index % len(COLOURS)]} {THINGS[index // len(COLOURS) % len(THINGS)]} "
            f"{PLACES[index % len(PLACES)]}")


def write_laion(root: Path) -> str:
    """img2dataset-style shards ({key}.jpg / .txt / .json), the last member a corrupt JPEG;
    returns the brace pattern of the shards."""
    for shard in range(LAION_SHARDS):
        members = []
        for position in range(LAION_PER_SHARD):
            key, index = f"{shard:05d}{position:04d}", shard * LAION_PER_SHARD + position
            meta = {"url": f"http://example.org/{key}.jpg", "similarity": 0.3, "status": "success"}
            members += [(f"{key}.jpg", jpeg_bytes(index, IMAGE_SIZE)),
                        (f"{key}.txt", caption(index).encode()),
                        (f"{key}.json", json.dumps(meta).encode())]
        if shard == LAION_SHARDS - 1:
            members += [(f"{shard:05d}9999.jpg", corrupt_jpeg()),
                        (f"{shard:05d}9999.txt", b"a broken image")]
        write_tar(root / f"{shard:05d}.tar", members)
    return str(root / f"{{00000..{LAION_SHARDS - 1:05d}}}.tar")


def write_coco(root: Path) -> None:
    """COCO 2017 train: annotations/captions_train2017.json and instances_train2017.json (one
    category per image) and the images under train2017/."""
    images = [{"id": i + 1, "file_name": f"{i + 1:012d}.jpg"} for i in range(COCO_IMAGES)]
    captions = [{"id": 100 * image["id"] + c, "image_id": image["id"],
                 "caption": caption(7 * image["id"] + c)}
                for image in images for c in range(COCO_CAPTIONS)]
    categories = [{"id": i + 1, "name": thing, "supercategory": "thing"}
                  for i, thing in enumerate(THINGS)]
    instances = [{"id": image["id"], "image_id": image["id"], "area": 100.0,
                  "category_id": image["id"] % len(THINGS) + 1} for image in images]
    annotations = root / "annotations"
    annotations.mkdir(parents=True)
    (annotations / "captions_train2017.json").write_text(
        json.dumps({"images": images, "annotations": captions}))
    (annotations / "instances_train2017.json").write_text(
        json.dumps({"images": images, "annotations": instances, "categories": categories}))
    for image in images:
        write_file(root / "train2017" / image["file_name"],
                   jpeg_bytes(1000 + image["id"], IMAGE_SIZE))


def write_imagenet(root: Path) -> Path:
    """ImageNet val as one folder per class (ILSVRC2012_val_*.JPEG) and the class names as
    imagenet_class_index.json ({index: [folder, name]}); returns the json's path."""
    for c, folder in enumerate(IMAGENET):
        for i in range(IMAGENET_PER_CLASS):
            number = c * IMAGENET_PER_CLASS + i + 1
            write_file(root / "val" / folder / f"ILSVRC2012_val_{number:08d}.JPEG",
                       jpeg_bytes(2000 + number, IMAGE_SIZE))
    names = root / "imagenet_class_index.json"
    names.write_text(json.dumps({str(i): [folder, name.replace(" ", "_")]
                                 for i, (folder, name) in enumerate(IMAGENET.items())}))
    return names


def write_fashioniq(root: Path) -> None:
    """FashionIQ val of each category the experiment reads: captions/cap.*.val.json (triplets,
    two relative captions each), image_splits/split.*.val.json (the gallery) and
    images/{id}.jpg."""
    for c, category in enumerate(FASHIONIQ_CATEGORIES):
        ids = [f"{category}{i}" for i in range(FASHIONIQ_GALLERY)]
        triplets = [{"candidate": ids[t], "target": ids[(t + 1) % len(ids)],
                     "captions": [FASHIONIQ_EDITS[t % len(FASHIONIQ_EDITS)],
                                  FASHIONIQ_EDITS[(t + 1) % len(FASHIONIQ_EDITS)]]}
                    for t in range(FASHIONIQ_TRIPLETS)]
        write_file(root / "captions" / f"cap.{category}.val.json", json.dumps(triplets).encode())
        write_file(root / "image_splits" / f"split.{category}.val.json", json.dumps(ids).encode())
        for i, image_id in enumerate(ids):
            write_file(root / "images" / f"{image_id}.jpg",
                       jpeg_bytes(3000 + 10 * c + i, IMAGE_SIZE))


def vocabulary() -> list[str]:
    """Every word and punctuation mark of the texts the run embeds (captions, class prompts with
    the 80 CLIP templates, FashionIQ's category prompts and edits)."""
    texts = [caption(i) for i in range(200)] + FASHIONIQ_EDITS + ["a broken image"]
    texts += [template.format(name) for template in CLIP_TEMPLATES
              for name in IMAGENET.values()]
    texts += [f"a photo of a {category}" for category in FASHIONIQ_CATEGORIES]
    return sorted({token for text in texts for token in re.findall(r"\w+|[^\w\s]", text)})


def write_siglip(directory: Path) -> None:
    """A tiny randomly initialised SiglipModel and its processor, by ``save_pretrained``: a
    WordLevel tokenizer over :func:`vocabulary` with SigLIP's conventions (``</s>`` appended and
    used as the pad token), as tests/test_transformers_backend.py builds one offline."""
    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2}
    vocab.update({word: i + 3 for i, word in enumerate(vocabulary())})
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.post_processor = processors.TemplateProcessing(single="$A </s>",
                                                           special_tokens=[("</s>", 1)])
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=backend, eos_token="</s>", pad_token="</s>", unk_token="<unk>",
        model_max_length=16)
    tower = {"hidden_size": WIDTHS["siglip"], "intermediate_size": 64, "num_hidden_layers": 2,
             "num_attention_heads": 2}
    config = transformers.SiglipConfig(
        text_config=dict(vocab_size=len(vocab), max_position_embeddings=16,
                         projection_size=WIDTHS["siglip"], pad_token_id=1, bos_token_id=None,
                         eos_token_id=1, **tower),
        vision_config=dict(image_size=32, patch_size=16, **tower))
    torch.manual_seed(0)
    transformers.SiglipModel(config).save_pretrained(directory)
    transformers.SiglipProcessor(
        image_processor=transformers.SiglipImageProcessor(size={"height": 32, "width": 32}),
        tokenizer=tokenizer).save_pretrained(directory)


def overrides(experiment: dict, paths: dict) -> dict:
    """The layer after the experiment: its data and weights at ``paths``, its two kept encoders
    (replacing the six), and every size shrunk to seconds. Sections that name the six encoders
    are replaced whole (``replace:``), rebuilt from the experiment's own blocks."""
    paper_b, interventions = experiment["paper_b"], experiment["interventions"]
    table1, panels = paper_b["table1"], experiment["analysis"]["mds_panels"]
    return {
        "replace": ["encoders", "dictionary_targets", "paper_b", "analysis", "interventions"],
        "paths": paths,
        "encoders": {
            "clip_b32": {"backend": "open_clip", "name": "ViT-B-32", "pretrained": None},
            "siglip": {"backend": "transformers", "model": "{paths.siglip}",
                       "cache_dir": "{paths.hf_cache}"},
        },
        "dictionary_targets": {e: experiment["dictionary_targets"][e] for e in ENCODERS},
        "dictionaries": {name: {"expansion": EXPANSIONS[block["expansion"]]}
                         for name, block in experiment["dictionaries"].items()
                         if "expansion" in block},
        "extract": {"batch_size": 16},
        "evaluation": {"recall_batch_size": 8, "histogram_pairs": 24},
        "dictionary_training": {"epochs": 1, "batch_size": 16},
        "beta_sweep": {"pairs": 48, "low": 1.0e-3, "high": 1.0e-2, "per_decade": 1,
                       "epochs": 1},
        "analysis": {**experiment["analysis"], "batch_size": 64,
                     "mds_panels": {label: target for label, target in panels.items()
                                    if target.split("/")[0] in ENCODERS}},
        "paper_b": {
            **paper_b,
            "table1": {"encoders": list(ENCODERS), "sae": table1["sae"],
                       "sae_a": {e: table1["sae_a"][e] for e in ENCODERS}},
            "table5": {**paper_b["table5"], "d": 16, "k": 2, "L": 4, "n_train": 200,
                       "epochs": 1, "batch_size": 32},
        },
        "interventions": {
            **interventions,
            "encoders": list(ENCODERS),
            "dictionary": {e: interventions["dictionary"][e] for e in ENCODERS},
            "max_pairs": INTERVENTION_PAIRS,
            "probe_pairs": PROBE_PAIRS,
            "wasserstein_samples": 16,
            "ood_k": 3,
            "recall_batch_size": 8,
        },
        "uncertainty": {"resamples": 10, "level": 0.95},
    }


def run_snakemake(workdir: Path, *configfiles: Path) -> subprocess.CompletedProcess:
    """`snakemake --cores 2 all` on the repository's Snakefile in ``workdir`` with the layered
    ``configfiles``; stdout and stderr merged. ``--max-threads 1``: a real encoder's jobs claim
    every core, so without it the ~110 jobs, most of them seconds of imports, run one at a
    time."""
    command = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"),
               "--directory", str(workdir), "--cores", "2", "--max-threads", "1", "all",
               "--configfile", *map(str, configfiles)]
    return subprocess.run(command, check=False, cwd=workdir, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=900)


@pytest.fixture(scope="module")
def paper_b_run(tmp_path_factory) -> dict:
    """The fake data and weights, the overrides file, and one `all` run of the experiment on
    them (its wall time under ``seconds``)."""
    data = tmp_path_factory.mktemp("paper-b-data")
    experiment = yaml.safe_load(EXPERIMENT.read_text())
    write_coco(data / "coco")
    write_fashioniq(data / "fashioniq")
    write_siglip(data / "siglip")
    paths = {**experiment["paths"],
             "laion_shards": write_laion(data / "laion"),
             "coco_root": str(data / "coco"),
             "imagenet_val": str(data / "imagenet" / "val"),
             "imagenet_class_names": str(write_imagenet(data / "imagenet")),
             "fashioniq_root": str(data / "fashioniq"),
             "siglip": str(data / "siglip")}
    workdir = tmp_path_factory.mktemp("paper-b-run")
    layer = workdir / "fake_data.yaml"
    layer.write_text(yaml.safe_dump(overrides(experiment, paths), sort_keys=False))
    start = time.monotonic()
    process = run_snakemake(workdir, EXPERIMENT, layer)
    seconds = time.monotonic() - start
    print(f"snakemake all on paper B's fake data: {seconds:.0f} s")
    assert process.returncode == 0, describe(process)
    return {"workdir": workdir, "data": data, "experiment": experiment, "seconds": seconds}


def table(run: dict, name: str) -> pd.DataFrame:
    """results/tables/{name}.csv of the run."""
    return pd.read_csv(run["workdir"] / "results" / "tables" / f"{name}.csv")


def results(run: dict, path: str) -> Path:
    """A path under the run's results/."""
    return run["workdir"] / "results" / path


def gap_file(run: dict, encoder: str, dataset: str, split: str) -> pd.DataFrame:
    """The gap-removal measures of ``encoder`` on one split of ``dataset``."""
    return pd.read_csv(results(run, f"interventions/{encoder}/{dataset}/gap_{split}.csv"))


TABLES = [1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12]


@pytest.mark.parametrize("number", TABLES)
def test_every_paper_b_table_has_rows(paper_b_run, number):
    assert len(table(paper_b_run, f"paperB_table{number}")) > 0


def test_the_report_shows_every_paper_b_table(paper_b_run):
    html = results(paper_b_run, "report/index.html").read_text()
    for number in TABLES:
        assert f"paperB_table{number}.csv" in html


@pytest.mark.parametrize("dataset, pairs", [
    ("laion", LAION_SHARDS * LAION_PER_SHARD),  # the corrupt JPEG dropped
    ("coco", COCO_IMAGES * COCO_CAPTIONS),
    ("imagenet", len(IMAGENET) * IMAGENET_PER_CLASS),
    ("fashioniq", len(FASHIONIQ_CATEGORIES) * FASHIONIQ_GALLERY),
])
def test_every_usable_pair_of_the_fake_data_is_indexed(paper_b_run, dataset, pairs):
    frame = pd.read_parquet(results(paper_b_run, f"data/{dataset}/pairs.parquet"))
    assert len(frame) == frame["pair_id"].nunique() == pairs
    if dataset == "laion":
        assert frame["url"].str.startswith("http://example.org/").all()
        log = results(paper_b_run, "logs/data/laion.log").read_text()
        assert "dropped 1 corrupt images" in log
    if dataset == "imagenet":
        assert frame.groupby("class_dir").size().to_dict() == dict.fromkeys(
            IMAGENET, IMAGENET_PER_CLASS)
        assert frame["caption"].iloc[0] == "a photo of a tench."  # the experiment's template


@pytest.mark.parametrize("encoder", ENCODERS)
def test_embeddings_have_the_architectures_width(paper_b_run, encoder):
    width = WIDTHS[encoder]
    for dataset in ("laion", "coco", "imagenet", "fashioniq"):
        embeddings = read_embeddings(
            results(paper_b_run, f"embeddings/{encoder}/{dataset}.parquet"))
        pairs = pd.read_parquet(results(paper_b_run, f"data/{dataset}/pairs.parquet"))
        assert embeddings.pairs["pair_id"].tolist() == pairs["pair_id"].tolist()
        assert embeddings.metadata["dim"] == str(width)
        for vectors in (embeddings.image, embeddings.text):
            assert vectors.shape == (len(pairs), width)
            np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embeddings.metadata["backend"] == (
        "OpenClipEncoder" if encoder == "clip_b32" else "TransformersEncoder")
    # FashionIQ: one delta per triplet (its two relative captions averaged)
    edits, deltas = read_vectors(
        results(paper_b_run, f"embeddings/{encoder}/fashioniq.edits.parquet"), "delta")
    triplets = len(FASHIONIQ_CATEGORIES) * FASHIONIQ_TRIPLETS
    assert deltas.shape == (triplets, width) and len(edits) == len(deltas)
    # ImageNet zero-shot: one vector per class, the mean over the 80 CLIP templates
    classes, vectors = read_vectors(
        results(paper_b_run, f"embeddings/{encoder}/imagenet.prompts.parquet"), "embedding")
    # imagenet_class_index.json's underscores are read as spaces
    assert classes["class"].tolist() == list(IMAGENET.values())
    assert (classes["prompts"] == len(CLIP_TEMPLATES)).all()
    assert vectors.shape == (len(IMAGENET), width)


# (dataset, split) of tables 9, 10, 11 and the pairs each evaluates: at most max_pairs, and on
# ImageNet val what the probe's held-out pairs leave
EVALUATED = [("laion", "train", INTERVENTION_PAIRS), ("coco", "train", INTERVENTION_PAIRS),
             ("imagenet", "val", len(IMAGENET) * IMAGENET_PER_CLASS - PROBE_PAIRS)]


@pytest.mark.parametrize("encoder", ENCODERS)
@pytest.mark.parametrize("dataset, split, pairs", EVALUATED)
def test_gap_removal_of_each_evaluated_dataset(paper_b_run, encoder, dataset, split, pairs):
    measures = gap_file(paper_b_run, encoder, dataset, split)
    assert set(measures["pairs"]) == {pairs}
    assert set(measures["dataset"]) == {dataset} and set(measures["split"]) == {split}
    # the bimodal mask is the interventions dictionary's, from LAION whatever the dataset
    dictionary = paper_b_run["experiment"]["interventions"]["dictionary"][encoder]
    groups = pd.read_parquet(
        results(paper_b_run, f"features/{encoder}/{dictionary}/laion.parquet"), columns=["group"])
    assert set(measures["bimodal_latents"]) == {int((groups["group"] == "bimodal").sum())}
    labelled = {"zero_shot", "probe"} & set(measures["measure"])
    assert labelled == ({"zero_shot", "probe"} if dataset == "imagenet" else set())
    shares = measures[measures["measure"].isin(["zero_shot", "probe", "undirected_pairs"])]
    assert shares["value"].between(0, 1).all()
    # accuracies are shares of the evaluated images
    accuracies = measures.loc[measures["measure"].isin(["zero_shot", "probe"]), "value"]
    np.testing.assert_allclose(accuracies * pairs, np.round(accuracies * pairs), atol=1e-9)
    unchanged = measures[(measures["method"] == "reconstructed") & (measures["measure"] == "dim")]
    assert len(unchanged) == 1 and unchanged["value"].iloc[0] > 0


@pytest.mark.parametrize("encoder", ENCODERS)
def test_table_11_is_imagenets_zero_shot_and_probe_accuracy(paper_b_run, encoder):
    frame = table(paper_b_run, "paperB_table11").set_index(["measure", "method"])
    assert {"zero-shot acc", "linear-probe acc"} <= set(frame.index.get_level_values(0))
    gap = gap_file(paper_b_run, encoder, "imagenet", "val").set_index(["method", "measure"])
    for row, measure in (("zero-shot acc", "zero_shot"), ("linear-probe acc", "probe")):
        assert frame.loc[(row, "(Î, T̂)"), encoder] == pytest.approx(
            gap.loc[("reconstructed", measure), "value"])


@pytest.mark.parametrize("encoder", ENCODERS)
def test_vector_arithmetic_on_fashioniqs_triplets(paper_b_run, encoder):
    measures = pd.read_csv(results(paper_b_run, f"interventions/{encoder}/arithmetic.csv"))
    assert measures["query"].tolist() == ["source", "delta", "sum", "sae", "code"]
    assert set(measures["edits"]) == {len(FASHIONIQ_CATEGORIES) * FASHIONIQ_TRIPLETS}
    for measure in ("ood", "retrieval_batched", "retrieval_gallery"):
        assert measures[measure].between(0, 1).all()
    table7 = table(paper_b_run, "paperB_table7").set_index("query")
    assert table7.loc["sae", encoder] == pytest.approx(
        measures.set_index("query").loc["sae", "ood"])


def test_tables_1_3_4_have_the_experiments_columns(paper_b_run):
    experiment = paper_b_run["experiment"]
    table1 = table(paper_b_run, "paperB_table1")
    for encoder in ENCODERS:
        assert {f"{encoder} SAE", f"{encoder} SAE-A"} <= set(table1.columns)
    for name in ("table3", "table4"):
        columns = experiment["paper_b"][name]["columns"]
        frame = table(paper_b_run, f"paperB_{name}").set_index("metric")
        assert set(columns) <= set(frame.columns)
        # TopK keeps exactly k latents per row: the experiment's k (20, and 50 at expansion 64)
        k = experiment["dictionaries"][columns["TopK"]]["k"]
        assert frame.loc["ℓ0 (↓)", "TopK"] == pytest.approx(k)


def test_expansion_64_dictionaries_are_shrunk_but_keep_their_architecture(paper_b_run):
    experiment = paper_b_run["experiment"]
    for method in experiment["paper_b"]["table4"]["columns"].values():
        checkpoint = torch.load(results(paper_b_run, f"dictionaries/clip_b32/{method}/model.pt"),
                                map_location="cpu", weights_only=False)
        assert checkpoint["d"] == WIDTHS["clip_b32"]
        assert checkpoint["n_latents"] == EXPANSIONS[64] * WIDTHS["clip_b32"]
        assert checkpoint["spec"]["architecture"] == experiment["dictionaries"][method][
            "architecture"]
