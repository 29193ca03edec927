"""Real-data dataset kinds in the workflow: a tiny webdataset and a tiny CSV dataset added to
config/smoke.yaml are indexed by their data rules and embedded by the streaming extraction
(only those targets are built)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from crossmodal.store import read_embeddings
from datafiles import corrupt_jpeg, jpeg_bytes, png_bytes, write_file, write_tar
from test_workflow import SMOKE, fresh_workdir, run_ok

pytestmark = pytest.mark.workflow

SIZE = (32, 32)  # the toy encoders see images at smoke.yaml's toyworld image_size


def _tiny_webdataset(root):
    """Two shards, 5 samples: 3 usable, a corrupt JPEG, an empty caption."""
    write_tar(root / "00000.tar", [
        ("000000000.jpg", jpeg_bytes(0, SIZE)), ("000000000.txt", b"a red circle at the top"),
        ("000000001.jpg", corrupt_jpeg()), ("000000001.txt", b"a broken image"),
        ("000000002.png", png_bytes((0, 0, 255), SIZE)), ("000000002.txt", b"one blue square"),
    ])
    write_tar(root / "00001.tar", [
        ("000010000.jpg", jpeg_bytes(1, SIZE)), ("000010000.txt", b""),
        ("000010001.jpg", jpeg_bytes(2, SIZE)), ("000010001.txt", b"two green stars"),
    ])


def _tiny_csv(root):
    """Four rows, 2 usable: a corrupt JPEG and an empty caption; labels kept."""
    write_file(root / "img" / "a.png", png_bytes((255, 0, 0), SIZE))
    write_file(root / "img" / "b.jpg", jpeg_bytes(3, SIZE))
    write_file(root / "img" / "bad.jpg", corrupt_jpeg())
    pd.DataFrame({"image": ["img/a.png", "img/b.jpg", "img/bad.jpg", "img/a.png"],
                  "caption": ["a red square", "noise at the bottom", "broken", " "],
                  "colour": ["red", "grey", "red", "red"]}).to_csv(root / "pairs.csv",
                                                                   index=False)


@pytest.fixture(scope="module")
def real_data_run(tmp_path_factory):
    data = tmp_path_factory.mktemp("real-data")
    _tiny_webdataset(data / "wds")
    _tiny_csv(data / "csv")
    config = yaml.safe_load(SMOKE.read_text())
    config["datasets"]["tinywds"] = {"kind": "webdataset",
                                     "shards": str(data / "wds" / "{00000..00001}.tar"),
                                     "split": "train"}
    config["datasets"]["tinycsv"] = {"kind": "table", "path": str(data / "csv" / "pairs.csv"),
                                     "split": "test"}
    workdir = fresh_workdir(tmp_path_factory, "real-data-run", yaml.safe_dump(config))
    run_ok(workdir, "results/embeddings/toyclip/tinywds.parquet",
           "results/embeddings/toyclip/tinycsv.parquet")
    return workdir, data


def test_webdataset_pairs_reference_the_shards(real_data_run):
    workdir, data = real_data_run
    pairs = pd.read_parquet(workdir / "results/data/tinywds/pairs.parquet")
    assert pairs["pair_id"].tolist() == ["000000000", "000000002", "000010001"]
    assert pairs["image_member"].tolist() == ["000000000.jpg", "000000002.png", "000010001.jpg"]
    assert pairs["image"].tolist() == [str(data / "wds" / "00000.tar")] * 2 + [
        str(data / "wds" / "00001.tar")]
    log = (workdir / "results/logs/data/tinywds.log").read_text()
    assert "dropped 1 corrupt images, 1 empty captions" in log


def test_csv_pairs_keep_their_labels(real_data_run):
    workdir, data = real_data_run
    pairs = pd.read_parquet(workdir / "results/data/tinycsv/pairs.parquet")
    assert pairs["caption"].tolist() == ["a red square", "noise at the bottom"]
    assert pairs["colour"].tolist() == ["red", "grey"]
    assert pairs["image"].tolist() == [str(data / "csv" / "img" / "a.png"),
                                       str(data / "csv" / "img" / "b.jpg")]
    assert set(pairs["split"]) == {"test"}
    log = (workdir / "results/logs/data/tinycsv.log").read_text()
    assert "dropped 1 corrupt images, 1 empty captions" in log


@pytest.mark.parametrize("dataset, ids, columns", [
    ("tinywds", ["000000000", "000000002", "000010001"], ["pair_id", "split", "caption"]),
    ("tinycsv", ["0", "1"], ["pair_id", "split", "caption", "colour"]),
])
def test_streamed_embeddings_of_real_data_kinds(real_data_run, dataset, ids, columns):
    workdir, _ = real_data_run
    embeddings = read_embeddings(workdir / f"results/embeddings/toyclip/{dataset}.parquet")
    assert embeddings.pairs["pair_id"].tolist() == ids
    assert list(embeddings.pairs.columns) == columns
    for vectors in (embeddings.image, embeddings.text):
        assert vectors.shape == (len(ids), 32) and vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embeddings.metadata["dataset"] == dataset and embeddings.metadata["dim"] == "32"
    log = (workdir / f"results/logs/embeddings/toyclip/{dataset}.log").read_text()
    assert f"embedded {len(ids)} pairs in " in log and "pairs/s" in log
