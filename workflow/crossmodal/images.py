"""Image bytes ↔ arrays."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image


def decode_image(data: bytes) -> Image.Image:
    """PIL RGB image from encoded bytes (PNG, JPEG, …)."""
    return Image.open(io.BytesIO(data)).convert("RGB")


def decode_to_array(images: Sequence[bytes]) -> np.ndarray:
    """uint8 array ``(N, H, W, 3)`` of equally sized encoded images."""
    first = np.asarray(decode_image(images[0]))
    out = np.empty((len(images), *first.shape), dtype=np.uint8)
    out[0] = first
    for i in range(1, len(images)):
        out[i] = np.asarray(decode_image(images[i]))
    return out
