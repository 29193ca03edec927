"""webdataset reader: img2dataset-style tiny shards the test writes (a corrupt JPEG, an empty
caption, samples without image or caption, a damaged shard, more workers than shards)."""

from __future__ import annotations

import json
import logging

import pytest
import torch

from crossmodal.data import DatasetError, PairsFile, WebDatasetSource, open_image, write_pairs
from crossmodal.data.webdataset_tars import ShardScan, expand_shards
from datafiles import corrupt_jpeg, jpeg_bytes, png_bytes, webp_bytes, write_tar


def _meta(url: str, similarity: float) -> bytes:
    return json.dumps({"url": url, "similarity": similarity, "status": "success"}).encode()


@pytest.fixture
def shards(tmp_path):
    """Two shards of 8 samples: 5 usable, 1 corrupt JPEG, 1 empty caption, 1 without an image,
    1 without a caption (img2dataset keys: shard number + index)."""
    write_tar(tmp_path / "wds" / "00000.tar", [
        ("000000000.jpg", jpeg_bytes(0)), ("000000000.txt", b"a dog on a beach"),
        ("000000000.json", _meta("http://x/0", 0.31)),
        ("000000001.jpg", corrupt_jpeg()), ("000000001.txt", b"a broken image"),
        ("000000002.jpg", jpeg_bytes(2)), ("000000002.txt", b"   \n"),
        ("000000003.txt", b"a caption without an image"),
        ("000000004.PNG", png_bytes((200, 0, 0), (6, 5))), ("000000004.txt", b" a red square \n"),
    ])
    write_tar(tmp_path / "wds" / "00001.tar", [
        ("000010000.jpg", jpeg_bytes(3)), ("000010000.txt", "café au lait".encode()),
        ("000010000.json", _meta("http://x/10000", 0.28)),
        ("000010001.webp", webp_bytes((9, 9, 9))), ("000010001.txt", b"grey"),
        ("000010002.jpg", jpeg_bytes(4)),
        ("000010003.jpeg", jpeg_bytes(5, (16, 16))), ("000010003.txt", b"noise"),
    ])
    return tmp_path / "wds"


EXPECTED_IDS = ["000000000", "000000004", "000010000", "000010001", "000010003"]
EXPECTED_DROPS = {"corrupt images": 1, "empty captions": 1, "samples without an image": 1,
                  "samples without a caption": 1}


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_usable_samples_in_shard_order_whatever_the_workers(shards, tmp_path, workers):
    source = WebDatasetSource({"train": str(shards / "{00000..00001}.tar")}, "dataset 'w'",
                              json_fields=["url", "similarity"], workers=workers)
    pairs = write_pairs(source, tmp_path / "pairs.parquet", "dataset 'w'")
    assert pairs["pair_id"].tolist() == EXPECTED_IDS
    assert dict(source.dropped) == EXPECTED_DROPS
    assert list(pairs.columns) == ["pair_id", "split", "image", "image_member", "caption", "url",
                                   "similarity"]
    assert pairs["caption"].tolist() == ["a dog on a beach", "a red square", "café au lait",
                                         "grey", "noise"]
    assert pairs["image_member"].tolist() == ["000000000.jpg", "000000004.PNG", "000010000.jpg",
                                              "000010001.webp", "000010003.jpeg"]
    assert pairs["image"].tolist() == [str(shards / "00000.tar")] * 2 + [
        str(shards / "00001.tar")] * 3
    assert pairs["url"].tolist()[0] == "http://x/0" and pairs["url"].isna().sum() == 3
    assert pairs["similarity"].tolist()[2] == pytest.approx(0.28)
    assert set(pairs["split"]) == {"train"}


def test_pairs_open_lazily_from_the_shards(shards, tmp_path):
    source = WebDatasetSource({"train": [str(shards / "00000.tar"), str(shards / "00001.tar")]})
    write_pairs(source, tmp_path / "pairs.parquet", "w")
    batches = list(PairsFile(tmp_path / "pairs.parquet").batches(2))
    sizes = [open_image(i, m).size for b in batches for i, m in zip(b.images, b.members)]
    assert sizes == [(40, 30), (6, 5), (40, 30), (8, 8), (16, 16)]
    assert open_image(batches[0].images[1], batches[0].members[1]).getpixel((0, 0)) == (200, 0, 0)
    assert "image_member" not in batches[0].meta.column_names


def test_max_pairs_keeps_the_first_pairs_and_counts_only_drops_before_the_cut(shards):
    source = WebDatasetSource({"train": str(shards / "{00000..00001}.tar")}, max_pairs=3,
                              workers=2)
    assert [r.pair_id for r in source.records()] == EXPECTED_IDS[:3]
    assert dict(source.dropped) == {"corrupt images": 1, "empty captions": 1,
                                    "samples without an image": 1}


def test_splits_and_duplicate_keys(shards, tmp_path):
    write_tar(tmp_path / "val.tar", [("000000000.jpg", jpeg_bytes(7)),
                                     ("000000000.txt", b"same key again"),
                                     ("v1.png", png_bytes((1, 1, 1))), ("v1.txt", b"held out")])
    source = WebDatasetSource({"train": str(shards / "00000.tar"),
                               "val": str(tmp_path / "val.tar")})
    records = list(source.records())
    assert [(r.pair_id, r.split) for r in records] == [
        ("000000000", "train"), ("000000004", "train"), ("v1", "val")]
    assert source.dropped["duplicate keys"] == 1


def test_a_damaged_shard_loses_its_tail_not_the_run(shards, tmp_path, caplog):
    data = (shards / "00001.tar").read_bytes()
    damaged = tmp_path / "damaged.tar"
    damaged.write_bytes(data[:1536 + 700])  # first member's header and part of its data
    caplog.set_level(logging.WARNING)
    source = WebDatasetSource({"train": [str(shards / "00000.tar"), str(damaged)]})
    assert [r.pair_id for r in source.records()] == EXPECTED_IDS[:2]
    assert source.dropped["damaged shards (tail skipped)"] == 1
    assert f"{damaged}:" in caplog.text


def test_more_workers_than_shards_do_not_fail(shards):
    # a DataLoader worker without a shard must yield nothing, not raise
    loader = torch.utils.data.DataLoader(ShardScan([str(shards / "00000.tar")], []),
                                         batch_size=None, num_workers=2, collate_fn=lambda x: x)
    items = list(loader)
    assert sorted(item[2] for item in items if item[0] in ("pair", "drop")) == [0, 1, 2, 3, 4]


def test_bad_shard_specs_stop_with_one_line(shards, tmp_path):
    with pytest.raises(DatasetError) as info:
        expand_shards(str(shards / "{00000..00002}.tar"), tmp_path, "dataset 'w'")
    assert str(info.value) == (f"{shards / '00002.tar'}: shard not found (dataset 'w'); fix the "
                               "path or brace pattern")
    (tmp_path / "z.tar.gz").write_bytes(b"\x1f\x8b\x08\x00rest")
    with pytest.raises(DatasetError, match="gzip-compressed tar .*decompress it"):
        expand_shards([str(tmp_path / "z.tar.gz")], tmp_path, "w")
    assert expand_shards("wds/0000{0,1}.tar", tmp_path, "w") == [
        str(shards / "00000.tar"), str(shards / "00001.tar")]
    with pytest.raises(DatasetError, match="clash with pairs columns"):
        WebDatasetSource({"train": str(shards / "00000.tar")}, json_fields=["caption"])


def test_shards_with_nothing_usable_stop_with_the_reasons(tmp_path):
    shard = write_tar(tmp_path / "bad.tar", [("a.jpg", corrupt_jpeg()), ("a.txt", b"x"),
                                             ("b.txt", b"")])
    source = WebDatasetSource({"train": str(shard)})
    with pytest.raises(DatasetError) as info:
        write_pairs(source, tmp_path / "pairs.parquet", "dataset 'w'")
    assert str(info.value).startswith("dataset 'w': no usable pairs (1 corrupt images, "
                                      "1 samples without an image)")
    assert not (tmp_path / "pairs.parquet").exists()
