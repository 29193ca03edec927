"""Read the h-embeddings of one split, row-aligned with the model's embeddings.

Images: either the named encoder's own image embeddings (an embeddings parquet, column ``image``)
or a transformers image model's (an h parquet, column ``embedding``); texts: an h parquet.
"""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq

from crossmodal.monosemanticity.evaluate import align_rows
from crossmodal.store import Embeddings, read_embeddings, read_vectors


def read_h(path, pair_ids) -> np.ndarray:
    """(N, d') h-embeddings at ``path`` in the order of ``pair_ids``."""
    if "embedding" in pq.read_schema(path).names:
        frame, vectors = read_vectors(path, "embedding")
        return align_rows(pair_ids, frame["pair_id"], vectors, str(path))
    own = read_embeddings(path, [])
    return align_rows(pair_ids, own.pairs["pair_id"], own.image, str(path))


def h_embeddings(image_path, text_path, embeddings: Embeddings) -> tuple[np.ndarray, np.ndarray]:
    """h-embeddings of the images and of the captions of ``embeddings``' pairs."""
    pair_ids = embeddings.pairs["pair_id"].to_numpy()
    return read_h(image_path, pair_ids), read_h(text_path, pair_ids)
