"""``crossmodal.extract.embed_pairs`` with a fake encoder: order, dtype, normalisation, and a
clean one-line failure on non-finite embeddings."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from crossmodal.encoders.base import Encoder
from crossmodal.extract import NonFiniteEmbeddingError, embed_pairs

DIM = 4


def _png(index: int) -> bytes:
    """A 4x4 solid image whose red channel encodes ``index``."""
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (index, 7, 3)).save(buffer, format="PNG")
    return buffer.getvalue()


def _expected_image(index: int) -> np.ndarray:
    return np.array([index + 1.0, 2.0, -1.0, 0.5 * index], dtype=np.float32)


def _expected_text(index: int) -> np.ndarray:
    return np.array([1.0, -index - 1.0, 3.0, 0.25], dtype=np.float32)


class FakeEncoder(Encoder):
    """Embeds image ``i`` (red = i) and caption ``"caption i"`` as known, unnormalised vectors;
    rows listed in ``nan_images`` / ``inf_texts`` come back non-finite."""

    name = "fake"
    pretrained = None
    dim = DIM

    def __init__(self, nan_images=(), inf_texts=()):
        super().__init__()
        self.nan_images, self.inf_texts = set(nan_images), set(inf_texts)
        self.batches = 0

    def prepare_images(self, images):
        return torch.tensor([np.asarray(image)[0, 0, 0] for image in images], dtype=torch.long)

    def prepare_texts(self, texts):
        return torch.tensor([int(text.split()[-1]) for text in texts], dtype=torch.long)

    def embed_images(self, batch):
        self.batches += 1
        rows = torch.stack([torch.from_numpy(_expected_image(int(i))) for i in batch])
        for row, index in enumerate(batch.tolist()):
            if index in self.nan_images:
                rows[row, 1] = float("nan")
        return rows

    def embed_texts(self, batch):
        rows = torch.stack([torch.from_numpy(_expected_text(int(i))) for i in batch])
        for row, index in enumerate(batch.tolist()):
            if index in self.inf_texts:
                rows[row, 0] = float("inf")
        return rows


def _inputs(n: int):
    return ([_png(i) for i in range(n)], [f"caption {i}" for i in range(n)],
            [f"pair-{i:03d}" for i in range(n)])


def test_embed_pairs_returns_unit_norm_float32_rows_in_input_order():
    n = 10
    encoder = FakeEncoder()
    image, text = embed_pairs(encoder, *_inputs(n), batch_size=3)  # 4 batches, last one short
    assert encoder.batches == 4
    assert image.dtype == np.float32 and text.dtype == np.float32
    assert image.shape == (n, DIM) and text.shape == (n, DIM)
    np.testing.assert_allclose(np.linalg.norm(image, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(text, axis=1), 1.0, atol=1e-6)
    for i in range(n):
        expected_image = _expected_image(i) / np.linalg.norm(_expected_image(i))
        expected_text = _expected_text(i) / np.linalg.norm(_expected_text(i))
        np.testing.assert_allclose(image[i], expected_image, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(text[i], expected_text, rtol=1e-6, atol=1e-7)


def test_embed_pairs_without_normalisation_keeps_raw_vectors():
    encoder = FakeEncoder()
    encoder.normalisation = "none"
    image, text = embed_pairs(encoder, *_inputs(5), batch_size=2)
    np.testing.assert_array_equal(image, np.stack([_expected_image(i) for i in range(5)]))
    np.testing.assert_array_equal(text, np.stack([_expected_text(i) for i in range(5)]))


def test_nan_image_embeddings_raise_with_count_and_first_pair_ids():
    encoder = FakeEncoder(nan_images={2, 5, 7})
    with pytest.raises(NonFiniteEmbeddingError) as info:
        embed_pairs(encoder, *_inputs(10), batch_size=3)
    message = str(info.value)
    assert "\n" not in message, message
    assert message.startswith("fake: "), message
    assert "3 of 10 pairs" in message, message
    assert "pair-002, pair-005, pair-007" in message, message
    assert "pair-000" not in message and "pair-009" not in message, message


def test_non_finite_text_embeddings_raise_and_list_at_most_five_ids():
    encoder = FakeEncoder(nan_images={1}, inf_texts={3, 4, 6, 8, 9})
    with pytest.raises(NonFiniteEmbeddingError) as info:
        embed_pairs(encoder, *_inputs(10), batch_size=4)
    message = str(info.value)
    assert "6 of 10 pairs" in message, message
    assert "(first: pair-001, pair-003, pair-004, pair-006, pair-008)" in message, message
    assert "pair-009" not in message, message


def test_non_finite_error_is_a_value_error():
    # runtime.run reports ValueError subclasses as one line on the terminal, exit status 1.
    assert issubclass(NonFiniteEmbeddingError, ValueError)


def test_empty_dataset_is_refused():
    with pytest.raises(ValueError, match="no pairs to embed"):
        embed_pairs(FakeEncoder(), [], [], [], batch_size=4)
