"""``crossmodal.data.source``: image references (bytes, files, tar members), validation,
pairs.parquet writing and reading it back in exact batches."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crossmodal.data.source import (
    DatasetError,
    PairRecord,
    PairsFile,
    PairSource,
    TarMembers,
    check_file,
    exact_batches,
    is_decodable,
    open_image,
    open_images,
    pairs_frame,
    read_image_bytes,
    write_pairs,
)
from crossmodal.store import read_metadata
from datafiles import corrupt_jpeg, jpeg_bytes, png_bytes, write_file, write_tar


class ListSource(PairSource):
    """A PairSource over a fixed list of records (dropping one, counted)."""

    kind = "list"
    label_columns = ("label",)

    def __init__(self, records, uses_members=False):
        super().__init__()
        self._records, self.uses_members = records, uses_members

    def records(self) -> Iterator[PairRecord]:
        self.dropped["empty captions"] += 1
        yield from self._records


def test_is_decodable_accepts_images_and_rejects_a_cut_jpeg_and_garbage():
    assert is_decodable(jpeg_bytes(0)) and is_decodable(png_bytes((1, 2, 3)))
    assert not is_decodable(corrupt_jpeg())
    assert not is_decodable(b"\xff\xd8\xff\xe0 not really a jpeg")
    assert not is_decodable(b"")


def test_check_file_names_the_reason(tmp_path):
    good = write_file(tmp_path / "good.jpg", jpeg_bytes(1))
    bad = write_file(tmp_path / "bad.jpg", corrupt_jpeg())
    assert check_file(good) is None
    assert check_file(bad) == "corrupt images"
    assert check_file(tmp_path / "missing.jpg") == "missing image files"


def test_images_open_from_bytes_files_and_tar_members(tmp_path):
    data = jpeg_bytes(2, (12, 10))
    path = write_file(tmp_path / "a.jpg", data)
    shard = write_tar(tmp_path / "s.tar", [("k1.txt", b"x"), ("k1.jpg", data),
                                          ("k2.png", png_bytes((9, 9, 9), (5, 4)))])
    assert read_image_bytes(data) == data
    assert read_image_bytes(str(path)) == data
    assert read_image_bytes(str(shard), "k1.jpg") == data
    assert open_image(str(shard), "k2.png").size == (5, 4)
    assert open_image(str(shard), "k2.png").getpixel((0, 0)) == (9, 9, 9)
    frame = pd.DataFrame({"image": [str(path), str(shard)], "image_member": [None, "k2.png"]})
    assert [image.size for image in open_images(frame)] == [(12, 10), (5, 4)]


def test_missing_files_and_members_stop_with_one_line(tmp_path):
    shard = write_tar(tmp_path / "s.tar", [("k1.jpg", jpeg_bytes(3))])
    with pytest.raises(DatasetError) as info:
        read_image_bytes(str(shard), "k9.jpg")
    assert str(info.value).startswith(f"{shard}: no member 'k9.jpg'")
    assert "rerun the dataset's data rule" in str(info.value)
    with pytest.raises(DatasetError, match="image file not found"):
        read_image_bytes(str(tmp_path / "gone.jpg"))
    with pytest.raises(DatasetError, match="tar shard not found"):
        read_image_bytes(str(tmp_path / "gone.tar"), "k1.jpg")


def test_tar_member_tables_are_cached_for_a_few_shards(tmp_path):
    reader = TarMembers(cached=2)
    shards = [write_tar(tmp_path / f"{i}.tar", [(f"{i}.png", png_bytes((i, 0, 0)))])
              for i in range(3)]
    for i, shard in enumerate(shards):
        assert open_image_bytes(reader, shard, i).startswith(b"\x89PNG")
    assert list(reader._tables) == [str(shards[1]), str(shards[2])]


def open_image_bytes(reader: TarMembers, shard, i) -> bytes:
    return reader.read(str(shard), f"{i}.png")


def test_pairs_frame_has_the_contract_columns_and_counts_drops(tmp_path, caplog):
    records = [PairRecord("a", "train", "one", "/x/a.jpg", labels={"label": "cat"}),
               PairRecord("b", "test", "two", "/x/s.tar", "b.jpg", {"label": None})]
    caplog.set_level("INFO")
    frame = pairs_frame(ListSource(records, uses_members=True), "dataset 'd'")
    assert list(frame.columns) == ["pair_id", "split", "image", "image_member", "caption", "label"]
    assert frame["image_member"].isna().tolist() == [True, False]
    assert frame["image_member"].iloc[1] == "b.jpg"
    assert frame["label"].iloc[0] == "cat" and pd.isna(frame["label"].iloc[1])
    assert "dataset 'd': dropped 1 empty captions" in caplog.text
    plain = pairs_frame(ListSource(records[:1]), "d")
    assert list(plain.columns) == ["pair_id", "split", "image", "caption", "label"]


def test_pairs_frame_refuses_no_pairs_and_duplicate_ids():
    with pytest.raises(DatasetError) as info:
        pairs_frame(ListSource([]), "dataset 'd'")
    assert str(info.value) == ("dataset 'd': no usable pairs (1 empty captions); check the "
                               "dataset's paths in the config")
    twice = [PairRecord("a", "train", "x", "/a.jpg"), PairRecord("a", "train", "y", "/b.jpg")]
    with pytest.raises(DatasetError, match="pair id 'a' occurs more than once"):
        pairs_frame(ListSource(twice), "d")


def test_write_pairs_is_atomic_and_records_the_kind(tmp_path):
    path = tmp_path / "out" / "pairs.parquet"
    write_pairs(ListSource([PairRecord("a", "train", "x", "/a.jpg")]), path, "d",
                {"dataset": "d"})
    assert read_metadata(path) == {"kind": "list", "dataset": "d"}
    assert [p.name for p in path.parent.iterdir()] == ["pairs.parquet"]
    with pytest.raises(DatasetError):
        write_pairs(ListSource([]), tmp_path / "empty.parquet", "d")
    assert not (tmp_path / "empty.parquet").exists()


def test_exact_batches_recut_uneven_batches():
    schema = pa.schema([("i", pa.int64())])
    parts = [pa.record_batch([pa.array(range(a, b))], schema=schema)
             for a, b in [(0, 3), (3, 4), (4, 11)]]
    tables = list(exact_batches(parts, 4, schema))
    assert [t.column("i").to_pylist() for t in tables] == [[0, 1, 2, 3], [4, 5, 6, 7],
                                                           [8, 9, 10]]


def _pairs_file(tmp_path, n=10):
    images = [png_bytes((i, 0, 0)) for i in range(n)]
    frame = pd.DataFrame({"pair_id": [f"p{i}" for i in range(n)], "split": "train",
                          "image": images, "caption": [f"caption {i}" for i in range(n)],
                          "label": list(range(n))})
    path = tmp_path / "pairs.parquet"
    pq.write_table(pa.Table.from_pandas(frame), path, row_group_size=3)
    return path, images


def test_pairs_file_streams_exact_batches_in_order(tmp_path):
    path, images = _pairs_file(tmp_path)
    source = PairsFile(path, read_rows=2)
    batches = list(source.batches(4))
    assert [len(b) for b in batches] == [4, 4, 2]
    assert batches[0].meta.column_names == ["pair_id", "split", "caption", "label"]
    assert batches[0].meta.schema.metadata is None
    assert [b for batch in batches for b in batch.images] == images
    assert batches[2].captions == ["caption 8", "caption 9"]
    assert batches[1].members == [None] * 4
    assert source.num_rows == 10 and source.label_columns == ("label",)
    records = list(source.records())
    assert records[7].labels == {"label": 7} and records[7].pair_id == "p7"


def test_pairs_file_keeps_only_the_chosen_splits_in_order(tmp_path):
    path, images = _pairs_file(tmp_path)
    splits = ["train", "test", "test", "val", "test", "train", "train", "test", "val", "test"]
    frame = pd.read_parquet(path).assign(split=splits)
    pq.write_table(pa.Table.from_pandas(frame), path, row_group_size=3)
    wanted = [i for i, split in enumerate(splits) if split == "test"]
    source = PairsFile(path, read_rows=2, splits=["test"])
    batches = list(source.batches(3))
    assert source.num_rows == len(wanted) == sum(len(b) for b in batches)
    assert [b for batch in batches for b in batch.images] == [images[i] for i in wanted]
    assert {s for batch in batches for s in batch.meta.column("split").to_pylist()} == {"test"}
    assert PairsFile(path, splits=["nosuch"]).num_rows == 0
    assert list(PairsFile(path, splits=["nosuch"]).batches(3)) == []


def test_pairs_file_refuses_missing_and_foreign_files(tmp_path):
    with pytest.raises(DatasetError, match="pairs file not found"):
        PairsFile(tmp_path / "nope.parquet")
    path = tmp_path / "other.parquet"
    pq.write_table(pa.table({"pair_id": ["a"]}), path)
    with pytest.raises(DatasetError, match=r"not a pairs file \(no caption, image, split column"):
        PairsFile(path)


def test_class_names_of_pairs_follow_the_class_index_and_feed_the_80_templates():
    import pandas as pd

    from crossmodal.data import CLIP_TEMPLATES, class_names_of, zero_shot_prompts

    pairs = pd.DataFrame({"label": ["goldfish", "tench", "goldfish", None, "tench"],
                          "class_index": [1, 0, 1, 2, 0]})
    names = class_names_of(pairs)
    assert names == ["tench", "goldfish"]
    prompts = zero_shot_prompts(names)
    assert list(prompts) == names and len(prompts["tench"]) == len(CLIP_TEMPLATES) == 80
    assert prompts["tench"][0] == "a bad photo of a tench."
    with pytest.raises(DatasetError, match="no class column 'shape'"):
        class_names_of(pairs, "shape")
