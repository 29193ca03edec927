"""CSV / parquet table reader: relative and absolute image paths, extra label columns kept as
they are, an empty caption, a corrupt JPEG and a missing file dropped and counted."""

from __future__ import annotations

import pandas as pd
import pytest

from crossmodal.data import DatasetError, TableSource, write_pairs
from datafiles import corrupt_jpeg, jpeg_bytes, png_bytes, write_file


@pytest.fixture
def table(tmp_path):
    folder = tmp_path / "mydata"
    write_file(folder / "img" / "a.jpg", jpeg_bytes(1))
    write_file(folder / "img" / "b.png", png_bytes((3, 4, 5), (7, 3)))
    write_file(folder / "img" / "broken.jpg", corrupt_jpeg())
    absolute = write_file(tmp_path / "elsewhere" / "c.jpg", jpeg_bytes(2))
    frame = pd.DataFrame({
        "image": ["img/a.jpg", "img/b.png", "img/broken.jpg", "img/missing.jpg", str(absolute),
                  "img/a.jpg"],
        "caption": ["a noisy square", " a tiny flag ", "broken", "missing", "far away", ""],
        "colour": ["grey", "blue", "red", "red", "green", "grey"],
        "score": [0.5, 1.5, 2.5, 3.5, 4.5, 5.5],
    })
    return folder, frame, absolute


def test_csv_rows_become_pairs_with_their_label_columns(table, tmp_path):
    folder, frame, absolute = table
    frame.to_csv(folder / "pairs.csv", index=False)
    source = TableSource(folder / "pairs.csv", split="train", threads=2)
    pairs = write_pairs(source, tmp_path / "pairs.parquet", "dataset 't'")
    assert list(pairs.columns) == ["pair_id", "split", "image", "caption", "colour", "score"]
    assert pairs["pair_id"].tolist() == ["0", "1", "4"]
    assert pairs["caption"].tolist() == ["a noisy square", "a tiny flag", "far away"]
    assert pairs["image"].tolist() == [str(folder / "img" / "a.jpg"),
                                       str(folder / "img" / "b.png"), str(absolute)]
    assert pairs["colour"].tolist() == ["grey", "blue", "green"]
    assert pairs["score"].tolist() == [0.5, 1.5, 4.5]
    assert dict(source.dropped) == {"empty captions": 1, "corrupt images": 1,
                                    "missing image files": 1}


def test_parquet_with_ids_splits_and_renamed_columns(table, tmp_path):
    folder, frame, _ = table
    frame = frame.rename(columns={"image": "file", "caption": "text"}).assign(
        pair_id=[f"row-{i}" for i in range(6)],
        split=["train", "test", "train", "train", "val", "train"])
    frame.to_parquet(folder / "pairs.parquet")
    source = TableSource(folder / "pairs.parquet", image_column="file", caption_column="text")
    pairs = write_pairs(source, tmp_path / "out.parquet", "d")
    assert pairs["pair_id"].tolist() == ["row-0", "row-1", "row-4"]
    assert pairs["split"].tolist() == ["train", "test", "val"]
    assert list(pairs.columns) == ["pair_id", "split", "image", "caption", "colour", "score"]


def test_bad_tables_stop_with_one_line(table, tmp_path):
    folder, frame, _ = table
    frame.drop(columns=["caption"]).to_csv(folder / "nocap.csv", index=False)
    with pytest.raises(DatasetError) as info:
        TableSource(folder / "nocap.csv")
    assert str(info.value) == (f"{folder / 'nocap.csv'}: no column 'caption'; add it or set "
                               "`caption_column` to one of ['image', 'colour', 'score']")
    frame.assign(pair_id=["x"] * 6).to_csv(folder / "dup.csv", index=False)
    with pytest.raises(DatasetError, match="pair_id 'x' occurs more than once"):
        TableSource(folder / "dup.csv")
    with pytest.raises(DatasetError, match="table not found; fix `path`"):
        TableSource(folder / "absent.csv")
    (folder / "junk.parquet").write_bytes(b"not parquet")
    with pytest.raises(DatasetError, match="unreadable table"):
        TableSource(folder / "junk.parquet")
    with pytest.raises(DatasetError, match="unknown table format"):
        TableSource(folder / "pairs.xlsx")
