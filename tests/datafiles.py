"""Tiny test data: real files for the dataset-reader tests (encoded images, a corrupt JPEG, tar
shards) and paired embeddings with a modality gap for the geometry tests."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image


def jpeg_bytes(seed: int, size: tuple[int, int] = (40, 30)) -> bytes:
    """A noisy ``size`` (w, h) JPEG: noise keeps the entropy-coded data long enough to cut."""
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def png_bytes(colour: tuple[int, int, int], size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def webp_bytes(colour: tuple[int, int, int], size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="WEBP", lossless=True)
    return buffer.getvalue()


def corrupt_jpeg() -> bytes:
    """A JPEG cut in the middle of its scan data: the header opens, decoding fails."""
    data = jpeg_bytes(99)
    return data[: len(data) // 2]


def write_tar(path: Path, members: Iterable[tuple[str, bytes]]) -> Path:
    """An uncompressed tar with ``members`` (name, data) in the given order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w") as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def write_file(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def paired_embeddings(n: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit-norm captions close to their images, with a modality gap along the first axis."""
    rng = np.random.default_rng(seed)
    image = rng.normal(size=(n, d)).astype(np.float32)
    text = image + 0.3 * rng.normal(size=(n, d)).astype(np.float32)
    image[:, 0] += 2
    text[:, 0] -= 2
    return (image / np.linalg.norm(image, axis=1, keepdims=True),
            text / np.linalg.norm(text, axis=1, keepdims=True))
