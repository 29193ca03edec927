"""COCO captions 2017 reader on a tiny release tree the test writes: one pair per caption,
category labels by area, a corrupt JPEG, a missing file and an empty caption dropped."""

from __future__ import annotations

import json
import logging

import pytest

from crossmodal.data import CocoSource, DatasetError, write_pairs
from datafiles import corrupt_jpeg, jpeg_bytes, png_bytes, write_file

IMAGES = [{"id": 7, "file_name": "000000000007.jpg"}, {"id": 3, "file_name": "000000000003.jpg"},
          {"id": 9, "file_name": "000000000009.jpg"}, {"id": 5, "file_name": "000000000005.jpg"},
          {"id": 11, "file_name": "000000000011.png"}]
CAPTIONS = [
    {"id": 101, "image_id": 7, "caption": "A cat on a sofa. "},
    {"id": 95, "image_id": 7, "caption": "a sleeping cat"},
    {"id": 102, "image_id": 3, "caption": "Two dogs and a frisbee"},
    {"id": 103, "image_id": 3, "caption": "  "},
    {"id": 104, "image_id": 9, "caption": "a corrupt picture"},
    {"id": 105, "image_id": 5, "caption": "a missing picture"},
    {"id": 106, "image_id": 11, "caption": "an empty street"},
    {"id": 107, "image_id": 42, "caption": "an image nobody listed"},
]
CATEGORIES = [{"id": 17, "name": "cat", "supercategory": "animal"},
              {"id": 18, "name": "dog", "supercategory": "animal"},
              {"id": 63, "name": "couch", "supercategory": "furniture"},
              {"id": 34, "name": "frisbee", "supercategory": "sports"}]
INSTANCES = [
    {"id": 1, "image_id": 7, "category_id": 63, "area": 900.0},
    {"id": 2, "image_id": 7, "category_id": 17, "area": 500.0},
    {"id": 3, "image_id": 7, "category_id": 17, "area": 450.0},  # cat: 950 > couch: 900
    {"id": 4, "image_id": 3, "category_id": 34, "area": 80.0},
    {"id": 5, "image_id": 3, "category_id": 18, "area": 300.0},
]


def _write_json(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "coco"
    _write_json(root / "annotations" / "captions_val2017.json",
                {"images": IMAGES, "annotations": CAPTIONS})
    _write_json(root / "annotations" / "instances_val2017.json",
                {"images": IMAGES, "annotations": INSTANCES, "categories": CATEGORIES})
    write_file(root / "val2017" / "000000000007.jpg", jpeg_bytes(7))
    write_file(root / "val2017" / "000000000003.jpg", jpeg_bytes(3, (20, 10)))
    write_file(root / "val2017" / "000000000009.jpg", corrupt_jpeg())
    write_file(root / "val2017" / "000000000011.png", png_bytes((5, 5, 5)))
    return root


def test_one_pair_per_caption_with_categories_by_area(root, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    source = CocoSource(root, "val", split_name="test", threads=2)
    pairs = write_pairs(source, tmp_path / "pairs.parquet", "dataset 'coco'")
    assert pairs["pair_id"].tolist() == ["3/102", "7/95", "7/101", "11/106"]
    assert pairs["caption"].tolist() == ["Two dogs and a frisbee", "a sleeping cat",
                                         "A cat on a sofa.", "an empty street"]
    assert list(pairs.columns) == ["pair_id", "split", "image", "caption", "image_id", "label",
                                   "categories"]
    assert set(pairs["split"]) == {"test"}
    assert pairs["image_id"].tolist() == [3, 7, 7, 11]
    assert pairs["label"].tolist()[:3] == ["dog", "cat", "cat"] and pairs["label"].isna()[3]
    assert pairs["categories"].tolist() == ["dog;frisbee", "cat;couch", "cat;couch", ""]
    assert pairs["image"].iloc[0] == str(root / "val2017" / "000000000003.jpg")
    assert dict(source.dropped) == {"empty captions": 1, "corrupt images": 1,
                                    "missing image files": 1, "captions of unusable images": 2,
                                    "captions of images not in 'images'": 1}
    assert "dataset 'coco': dropped" in caplog.text and "1 corrupt images" in caplog.text


def test_without_instances_there_are_no_category_columns(root, tmp_path):
    (root / "annotations" / "instances_val2017.json").unlink()
    pairs = write_pairs(CocoSource(root, "val"), tmp_path / "pairs.parquet", "d")
    assert list(pairs.columns) == ["pair_id", "split", "image", "caption", "image_id"]
    assert set(pairs["split"]) == {"val"} and len(pairs) == 4


@pytest.mark.parametrize("break_it, message", [
    (lambda root: (root / "val2017").rename(root / "images"), "image directory not found"),
    (lambda root: (root / "annotations" / "captions_val2017.json").unlink(),
     "captions_val2017.json: file not found; point `root` at the COCO directory"),
    (lambda root: (root / "annotations" / "captions_val2017.json").write_text("{oops"),
     "captions_val2017.json: malformed JSON"),
    (lambda root: _write_json(root / "annotations" / "instances_val2017.json",
                              {"annotations": [{"image_id": 7, "category_id": 99}],
                               "categories": CATEGORIES}),
     "category id 99 is not in 'categories'"),
])
def test_broken_releases_stop_with_one_line(root, break_it, message):
    break_it(root)
    with pytest.raises(DatasetError) as info:
        CocoSource(root, "val")
    assert message in str(info.value) and "\n" not in str(info.value)


def test_unknown_split_is_refused(root):
    with pytest.raises(DatasetError, match="COCO 2017 has splits train, val"):
        CocoSource(root, "test")
