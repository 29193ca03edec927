"""Streaming extraction: pairs.parquet → ``embed_batches`` → ``EmbeddingsWriter``. Toyworld gives
bit-identical embeddings and the same file schema as the in-memory path it replaces; image
references (files, tar members) stream; undecodable images are dropped and counted; nothing is
left behind on failure."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch
from PIL import Image

from crossmodal.data import PairsFile
from crossmodal.encoders.base import Encoder
from crossmodal.encoders.tokenizer import WordTokenizer
from crossmodal.encoders.toy import ToyEncoder, save_checkpoint
from crossmodal.encoders.toy_model import create_toy_clip, toy_model_config
from crossmodal.extract import (
    ExtractionStats,
    NonFiniteEmbeddingError,
    embed_batches,
    loader_threads,
)
from crossmodal.images import decode_image
from crossmodal.store import (
    ArtifactError,
    EmbeddingsWriter,
    read_embeddings,
    write_embeddings,
    write_frame,
)
from datafiles import corrupt_jpeg, jpeg_bytes, png_bytes, write_file, write_tar

ARCHITECTURE = {"embed_dim": 16, "init_logit_scale": 100.0, "vision_layers": [1, 1, 1, 1],
                "vision_width": 8, "vision_head_width": 8, "context_length": 24,
                "text_width": 16, "text_heads": 2, "text_layers": 1}
METADATA = {"encoder": "toy", "dataset": "toyworld", "normalisation": "l2"}


@pytest.fixture(scope="module")
def toy(small_world, tmp_path_factory):
    """A randomly initialised toy CLIP (weights do not matter for the comparison)."""
    pairs, _ = small_world
    tmp = tmp_path_factory.mktemp("toy")
    tokenizer = WordTokenizer.fit(list(pairs["caption"]), ARCHITECTURE["context_length"])
    size = decode_image(pairs["image"].iloc[0]).size[0]
    config = toy_model_config(ARCHITECTURE, tokenizer.vocab_size, size)
    model = create_toy_clip(config, tmp / "toyworld-stream.json", seed=3)
    save_checkpoint(tmp / "model.pt", "toy", model, config, tokenizer, [0.5] * 3, [0.25] * 3)
    return ToyEncoder(tmp / "model.pt")


@torch.inference_mode()
def in_memory_reference(encoder, pairs: pd.DataFrame, batch_size: int):
    """The extraction this module replaces: every batch embedded, concatenated, then
    normalised as one (N, d) tensor."""
    image_rows, text_rows = [], []
    for start in range(0, len(pairs), batch_size):
        rows = pairs.iloc[start:start + batch_size]
        pixels = encoder.prepare_images([decode_image(b) for b in rows["image"]])
        image_rows.append(encoder.embed_images(pixels).float().cpu())
        text_rows.append(encoder.embed_texts(encoder.prepare_texts(list(rows["caption"])))
                         .float().cpu())
    image = torch.nn.functional.normalize(torch.cat(image_rows), dim=-1)
    text = torch.nn.functional.normalize(torch.cat(text_rows), dim=-1)
    return image.numpy().astype(np.float32), text.numpy().astype(np.float32)


def stream_to_file(encoder, pairs_path, out, batch_size, workers=1, row_group_rows=16384):
    stats = ExtractionStats()
    source = PairsFile(pairs_path, read_rows=100)
    with EmbeddingsWriter(out, METADATA, row_group_rows) as writer:
        for batch in embed_batches(encoder, source.batches(batch_size), workers,
                                   total=source.num_rows, stats=stats):
            writer.write(batch.meta, batch.image, batch.text)
    return stats


@pytest.mark.parametrize("workers", [1, 2])
def test_toyworld_streaming_is_bit_identical_to_in_memory(small_world, toy, tmp_path, workers):
    torch.set_num_threads(2)
    pairs, _ = small_world
    write_frame(pairs, tmp_path / "pairs.parquet")
    stats = stream_to_file(toy, tmp_path / "pairs.parquet", tmp_path / "new.parquet", 64,
                           workers, row_group_rows=128)
    image, text = in_memory_reference(toy, pairs, 64)
    write_embeddings(tmp_path / "old.parquet", pairs.drop(columns=["image"]), image, text,
                     METADATA)
    new, old = read_embeddings(tmp_path / "new.parquet"), read_embeddings(tmp_path / "old.parquet")
    assert np.array_equal(new.image.view(np.uint32), old.image.view(np.uint32))
    assert np.array_equal(new.text.view(np.uint32), old.text.view(np.uint32))
    pd.testing.assert_frame_equal(new.pairs, old.pairs)
    assert new.metadata == old.metadata == {**METADATA, "dim": "16"}
    new_schema, old_schema = (pq.read_schema(tmp_path / f) for f in ("new.parquet", "old.parquet"))
    assert new_schema.equals(old_schema, check_metadata=True)
    assert pq.ParquetFile(tmp_path / "new.parquet").metadata.num_row_groups == 4  # 480 / 128
    assert stats.pairs == len(pairs) == 480 and stats.dropped == 0
    assert stats.pairs_per_second > 0


class ColourEncoder(Encoder):
    """Embeds an image as its mean RGB and a caption as (len, #words, 1): known values."""

    name, pretrained, dim = "colour", None, 3

    def prepare_images(self, images):
        return torch.tensor(np.stack([np.asarray(i.convert("RGB"), dtype=np.float32)
                                      .mean((0, 1)) for i in images]))

    def prepare_texts(self, texts):
        return torch.tensor([[len(t), len(t.split()), 1.0] for t in texts])

    def embed_images(self, batch):
        return batch + 1.0  # never all zero

    def embed_texts(self, batch):
        return batch


@pytest.fixture
def referenced_pairs(tmp_path):
    """Pairs referencing files and tar members; 'bad' became corrupt after the data rule."""
    red = write_file(tmp_path / "img" / "red.png", png_bytes((255, 0, 0)))
    bad = write_file(tmp_path / "img" / "bad.jpg", jpeg_bytes(1))
    shard = write_tar(tmp_path / "s.tar", [("k0.png", png_bytes((0, 0, 255))),
                                          ("k0.txt", b"blue"),
                                          ("k1.jpg", jpeg_bytes(2))])
    frame = pd.DataFrame({"pair_id": ["red", "bad", "k0", "k1"], "split": "train",
                          "image": [str(red), str(bad), str(shard), str(shard)],
                          "image_member": [None, None, "k0.png", "k1.jpg"],
                          "caption": ["a red square", "a bad one", "blue", "noise here"],
                          "label": ["r", "x", "b", "n"]})
    write_frame(frame, tmp_path / "pairs.parquet")
    bad.write_bytes(corrupt_jpeg())
    return tmp_path / "pairs.parquet"


def test_references_stream_and_undecodable_images_are_dropped(referenced_pairs, tmp_path,
                                                              caplog):
    encoder = ColourEncoder()
    encoder.normalisation = "none"
    caplog.set_level(logging.WARNING)
    stats = stream_to_file(encoder, referenced_pairs, tmp_path / "e.parquet", batch_size=3)
    embeddings = read_embeddings(tmp_path / "e.parquet")
    assert embeddings.pairs["pair_id"].tolist() == ["red", "k0", "k1"]
    assert list(embeddings.pairs.columns) == ["pair_id", "split", "caption", "label"]
    np.testing.assert_array_equal(embeddings.image[0], [256.0, 1.0, 1.0])
    np.testing.assert_array_equal(embeddings.image[1], [1.0, 1.0, 256.0])
    np.testing.assert_array_equal(embeddings.text[2], [10.0, 2.0, 1.0])
    assert (stats.pairs, stats.dropped) == (3, 1)
    assert "pair bad: image does not decode" in caplog.text
    assert "dropped 1 pairs whose image does not decode" in stats.summary()


def test_non_finite_embeddings_leave_no_file(referenced_pairs, tmp_path):
    class NanEncoder(ColourEncoder):
        def embed_texts(self, batch):
            out = batch.clone()
            out[batch[:, 0] == 4.0] = float("nan")  # the caption "blue"
            return out

    out = tmp_path / "e.parquet"
    with pytest.raises(NonFiniteEmbeddingError) as info:
        stream_to_file(NanEncoder(), referenced_pairs, out, batch_size=1)
    assert str(info.value).startswith("colour: 1 of 3 pairs have NaN/inf embeddings (first: k0)")
    assert not out.exists() and list(tmp_path.glob("e.tmp-*")) == []


def test_writer_refuses_empty_and_mismatched_batches(tmp_path):
    out = tmp_path / "e.parquet"
    with pytest.raises(ArtifactError, match="no rows to write"), EmbeddingsWriter(out, METADATA):
        pass
    frame = pd.DataFrame({"pair_id": ["a", "b"], "split": "train", "caption": ["x", "y"]})
    ones = np.ones((2, 4), dtype=np.float32)
    with (pytest.raises(ArtifactError, match="shapes must agree"),
          EmbeddingsWriter(out, METADATA) as writer):
        writer.write(frame, ones, ones[:, :3])
    with (pytest.raises(ArtifactError, match="the encoder changed"),
          EmbeddingsWriter(out, METADATA) as writer):
        writer.write(frame, ones, ones)
        writer.write(frame, ones[:, :3], ones[:, :3])
    assert list(tmp_path.iterdir()) == []


def test_writer_accepts_pandas_batches_like_write_embeddings(tmp_path):
    frame = pd.DataFrame({"pair_id": ["a", "b", "c"], "split": "test", "caption": list("xyz"),
                          "flag": [True, False, True]})
    rng = np.random.default_rng(0)
    image, text = rng.normal(size=(2, 3, 5)).astype(np.float32)
    with EmbeddingsWriter(tmp_path / "a.parquet", METADATA, row_group_rows=2) as writer:
        writer.write(frame.iloc[:1], image[:1], text[:1])
        writer.write(frame.iloc[1:], image[1:], text[1:])
    write_embeddings(tmp_path / "b.parquet", frame, image, text, METADATA)
    a, b = read_embeddings(tmp_path / "a.parquet"), read_embeddings(tmp_path / "b.parquet")
    pd.testing.assert_frame_equal(a.pairs, b.pairs)
    np.testing.assert_array_equal(a.image, b.image)
    assert pq.read_schema(tmp_path / "a.parquet").equals(pq.read_schema(tmp_path / "b.parquet"),
                                                         check_metadata=True)


def test_empty_stream_is_refused():
    with pytest.raises(ValueError, match="no pairs to embed"):
        list(embed_batches(ColourEncoder(), iter([])))


def test_loader_threads_grow_with_cores():
    assert [loader_threads(n) for n in (1, 2, 4, 7, 8, 16, 64)] == [1, 1, 1, 1, 2, 4, 4]


def test_decoded_colour_of_a_tar_member_is_exact(referenced_pairs):
    batch = next(PairsFile(referenced_pairs).batches(4))
    from crossmodal.data import open_image

    image = open_image(batch.images[2], batch.members[2])
    assert isinstance(image, Image.Image) and image.getpixel((3, 3)) == (0, 0, 255)
