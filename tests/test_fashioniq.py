"""FashionIQ reader: a tiny release tree read into toyworld-style ``pairs`` and ``edits``."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from crossmodal.data import FashionIQError, mean_caption_embeddings, read_fashioniq
from crossmodal.images import decode_image

DRESS_VAL = [
    {"candidate": "d1", "target": "d2", "captions": ["is red and longer", "has no sleeves"]},
    {"candidate": "d2", "target": "d3", "captions": ["", "is shorter"]},
    {"candidate": "d3", "target": "d1", "captions": ["  ", ""]},
    {"candidate": "d1", "target": "dbad", "captions": ["is blue"]},
]
SHIRT_VAL = [{"candidate": "s1", "target": "s2", "captions": ["has a collar"]}]
DRESS_TEST = [
    {"candidate": "d1", "captions": ["is red"]},
    {"candidate": "d2", "target": "d3", "captions": ["is long", "is green"]},
]


def _image_bytes(colour: tuple[int, int, int], fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buffer, format=fmt)
    return buffer.getvalue()


def _write_json(path: Path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


@pytest.fixture
def root(tmp_path) -> Path:
    """Two categories of val (a corrupt dress image, a shirt target missing from the gallery
    and stored as .jpg) and a dress test split with an entry without target."""
    root = tmp_path / "fashioniq"
    _write_json(root / "captions" / "cap.dress.val.json", DRESS_VAL)
    _write_json(root / "captions" / "cap.shirt.val.json", SHIRT_VAL)
    _write_json(root / "captions" / "cap.dress.test.json", DRESS_TEST)
    _write_json(root / "image_splits" / "split.dress.val.json", ["d1", "d2", "d3", "dbad", "d4"])
    _write_json(root / "image_splits" / "split.shirt.val.json", ["s1"])
    _write_json(root / "image_splits" / "split.dress.test.json", ["d1", "d2", "d3"])
    images = root / "images"
    images.mkdir()
    for i, name in enumerate(["d1", "d2", "d3", "d4", "s1"]):
        (images / f"{name}.png").write_bytes(_image_bytes((40 * i, 0, 0), "PNG"))
    (images / "s2.jpg").write_bytes(_image_bytes((0, 200, 0), "JPEG"))
    (images / "dbad.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not an image")
    return root


def test_pairs_are_the_decodable_gallery_plus_referenced_images(root):
    pairs, _ = read_fashioniq(root, "val", ("dress", "shirt"))
    assert list(pairs.columns) == ["pair_id", "split", "image", "caption", "category"]
    assert list(pairs["pair_id"]) == ["dress/d1", "dress/d2", "dress/d3", "dress/d4",
                                      "shirt/s1", "shirt/s2"]
    assert set(pairs["split"]) == {"val"}
    assert list(pairs["category"]) == ["dress"] * 4 + ["shirt"] * 2
    assert set(pairs["caption"]) == {"a photo of a dress", "a photo of a shirt"}
    assert decode_image(pairs["image"].iloc[5]).size == (8, 8)
    assert pairs["image"].iloc[0] == (root / "images" / "d1.png").read_bytes()


def test_edits_have_one_row_per_nonempty_caption(root):
    pairs, edits = read_fashioniq(root, "val", ("dress", "shirt"))
    assert list(edits.columns) == ["edit_id", "source_pair_id", "target_pair_id", "family",
                                   "relative_caption"]
    assert edits["edit_id"].dtype == np.int64
    assert list(edits["edit_id"]) == [0, 0, 1, 2]
    assert list(edits["relative_caption"]) == ["is red and longer", "has no sleeves",
                                               "is shorter", "has a collar"]
    assert list(edits["family"]) == ["dress", "dress", "dress", "shirt"]
    assert set(edits["source_pair_id"]) | set(edits["target_pair_id"]) <= set(pairs["pair_id"])
    first = edits[edits["edit_id"] == 0]
    assert set(first["source_pair_id"]) == {"dress/d1"}
    assert set(first["target_pair_id"]) == {"dress/d2"}


def test_corrupt_image_and_its_edit_are_dropped_and_counted(root, caplog):
    with caplog.at_level(logging.INFO, logger="crossmodal.data.fashioniq"):
        pairs, edits = read_fashioniq(root, "val", ("dress", "shirt"))
    assert "dress/dbad" not in set(pairs["pair_id"])
    assert "dress/dbad" not in set(edits["target_pair_id"])
    assert "is blue" not in set(edits["relative_caption"])
    assert any("dbad.png" in r.message and r.levelno == logging.WARNING for r in caplog.records)
    summary = caplog.records[-1].message
    for count in ("1 corrupt images", "3 empty captions", "1 triplets without a caption",
                  "1 triplets with a corrupt image"):
        assert count in summary


def test_test_entries_without_target_are_skipped(root, caplog):
    with caplog.at_level(logging.INFO, logger="crossmodal.data.fashioniq"):
        pairs, edits = read_fashioniq(root, "test", ("dress",))
    assert list(pairs["pair_id"]) == ["dress/d1", "dress/d2", "dress/d3"]
    assert list(edits["edit_id"]) == [0, 0]
    assert set(edits["target_pair_id"]) == {"dress/d3"}
    assert "1 test entries without target" in caplog.records[-1].message


def _expect_error(root: Path, fragment: str, **kwargs):
    with pytest.raises(FashionIQError) as error:
        read_fashioniq(root, **{"split": "val", "categories": ("dress", "shirt"), **kwargs})
    message = str(error.value)
    assert fragment in message and "\n" not in message
    return message


def test_missing_root_and_captions_file_name_the_expected_path(root, tmp_path):
    missing = tmp_path / "nowhere"
    assert "captions/" in _expect_error(missing, str(missing))
    expected = root / "captions" / "cap.toptee.val.json"
    assert "image_splits/" in _expect_error(root, str(expected), categories=("toptee",))
    gallery = root / "image_splits" / "split.shirt.val.json"
    gallery.unlink()
    _expect_error(root, str(gallery))


def test_malformed_json_and_incomplete_entries_name_the_file(root):
    path = root / "captions" / "cap.shirt.val.json"
    path.write_text('[{"candidate": "s1", ')
    assert "malformed JSON" in _expect_error(root, str(path))
    for entry in ({"target": "s2", "captions": ["x"]}, {"candidate": "s1", "target": "s2"}):
        _write_json(path, [entry])
        assert "entry 0" in _expect_error(root, str(path))


def test_missing_image_names_the_id_and_directories(root):
    (root / "images" / "s2.jpg").unlink()
    message = _expect_error(root, "'s2'")
    assert str(root / "images") in message and str(root / "images" / "shirt") in message


def test_unknown_split_is_an_error(root):
    _expect_error(root, "'dev'", split="dev")


def test_mean_caption_embeddings_averages_per_edit():
    ids = np.array([7, 3, 7])
    embeddings = np.array([[1.0, 0.0], [5.0, 5.0], [3.0, 0.0]], dtype=np.float32)
    unique_ids, means = mean_caption_embeddings(ids, embeddings)
    np.testing.assert_array_equal(unique_ids, [3, 7])
    np.testing.assert_allclose(means, [[5.0, 5.0], [2.0, 0.0]])
    assert means.dtype == np.float32
    with pytest.raises(ValueError):
        mean_caption_embeddings(ids[:2], embeddings)
