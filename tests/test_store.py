"""Parquet round trips of embeddings and frames; atomic, deterministic writes."""

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from crossmodal.store import (
    ArtifactError,
    Embeddings,
    read_embeddings,
    read_frame,
    read_metadata,
    write_embeddings,
    write_frame,
)


def _embeddings(n=5, d=4, seed=0):
    rng = np.random.default_rng(seed)
    pairs = pd.DataFrame(
        {
            "pair_id": [f"p{i}" for i in range(n)],
            "split": ["train"] * 3 + ["test"] * (n - 3),
            "caption": [f"caption {i}" for i in range(n)],
        }
    )
    return (
        pairs,
        rng.normal(size=(n, d)).astype(np.float32),
        rng.normal(size=(n, d)).astype(np.float32),
    )


def test_embeddings_round_trip_shape_dtype_and_metadata(tmp_path):
    pairs, image, text = _embeddings()
    path = tmp_path / "e.parquet"
    write_embeddings(
        path,
        pairs,
        image,
        text,
        {"encoder": "toyclip", "pretrained": "None", "normalisation": "l2"},
    )
    schema = pq.read_schema(path)
    assert str(schema.field("image").type) == "fixed_size_list<element: float>[4]"
    loaded = read_embeddings(path)
    assert loaded.image.dtype == np.float32 and loaded.image.shape == (5, 4)
    np.testing.assert_array_equal(loaded.image, image)
    np.testing.assert_array_equal(loaded.text, text)
    assert loaded.metadata == {
        "encoder": "toyclip",
        "pretrained": "None",
        "normalisation": "l2",
        "dim": "4",
    }
    assert list(loaded.pairs["pair_id"]) == list(pairs["pair_id"])
    test = loaded.split("test")
    assert len(test.image) == 2
    np.testing.assert_array_equal(test.text, text[3:])


def test_same_content_gives_identical_bytes(tmp_path):
    pairs, image, text = _embeddings()
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    write_embeddings(a, pairs, image, text, {"encoder": "x"})
    write_embeddings(b, pairs, image, text, {"encoder": "x"})
    assert a.read_bytes() == b.read_bytes()


def test_shape_mismatch_is_refused_and_nothing_written(tmp_path):
    pairs, image, text = _embeddings()
    path = tmp_path / "e.parquet"
    with pytest.raises(ArtifactError, match="shapes must agree"):
        write_embeddings(path, pairs, image, text[:, :3], {})
    assert list(tmp_path.iterdir()) == []


def test_frame_round_trip_with_metadata(tmp_path):
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "image": [b"\x00\x01", b"\x02"]})
    path = tmp_path / "f.parquet"
    write_frame(frame, path, {"kind": "toyworld"})
    pd.testing.assert_frame_equal(read_frame(path), frame)
    assert read_metadata(path) == {"kind": "toyworld"}


def test_missing_files_name_the_file_and_the_fix(tmp_path):
    with pytest.raises(ArtifactError, match="snakemake"):
        read_embeddings(tmp_path / "nope.parquet")
    with pytest.raises(ArtifactError, match="nope.parquet"):
        read_frame(tmp_path / "nope.parquet")


def test_subsample_is_seeded_ordered_and_keeps_pairs_together():
    pairs = pd.DataFrame({"pair_id": np.arange(10), "split": "train"})
    image = np.arange(20, dtype=np.float32).reshape(10, 2)
    embeddings = Embeddings(pairs, image, -image, {})
    picked = embeddings.subsample(4, seed=7)
    assert len(picked.pairs) == 4
    assert list(picked.pairs["pair_id"]) == sorted(picked.pairs["pair_id"])
    assert np.array_equal(picked.image, image[picked.pairs["pair_id"]])
    assert np.array_equal(picked.text, -picked.image)
    assert picked.pairs.equals(embeddings.subsample(4, seed=7).pairs)
    assert embeddings.subsample(50, seed=7) is embeddings
