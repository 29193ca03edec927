"""Exact k-th-nearest-neighbour distances on the unit sphere (paper B §H).

Rows are L2-normalised first, so the Euclidean distance between two rows is a function of their
cosine: ``d(x, y) = ‖x̂ − ŷ‖ = sqrt(2 − 2 cos(x, y))``. The k-th nearest neighbour is therefore the
row with the k-th largest inner product, which is what both backends search for:

* ``faiss`` (optional, ``pip install crossmodal[knn]``): an exact ``faiss.IndexFlatIP``.
* ``torch``: blocked ``Q_b R_bᵀ`` in float32, an exact top-k per block (:func:`_top_values`),
  merged per query; the full (n_queries, n_reference) similarity matrix is never built. On CPU
  the block product goes through numpy's BLAS into one reused buffer (OpenBLAS ran ≈ 210 GFLOPS
  against ≈ 150 for torch's MKL on the 2-core AMD EPYC this was benchmarked on, see
  benchmarks/knn.py); on CUDA it is ``torch.mm``.

Precision: inner products are float32, so s carries an error of ≈ 1e-7 and d = sqrt(2 − 2s) an
error of ≈ 1e-7 / d, at most ≈ 4e-4 for (near-)duplicate rows (d ≈ 0), in both backends.
"""

from __future__ import annotations

import contextlib
import functools

import numpy as np
import torch


@functools.cache
def faiss_available() -> bool:
    """Whether ``faiss`` can be imported (tried once)."""
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` as a torch.device; None → cuda when available, else cpu."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def backend(device: str | torch.device | None = None, use_faiss: bool | None = None) -> str:
    """"faiss" or "torch": the backend ``kth_neighbour_distance`` uses for these arguments.

    ``use_faiss=None`` picks faiss when it is installed and the torch device (``device``, or cuda
    when available) is the CPU; on a GPU the blocked torch path is the faster exact search."""
    if use_faiss is None:
        return "faiss" if faiss_available() and resolve_device(device).type == "cpu" else "torch"
    if use_faiss and not faiss_available():
        raise ImportError("use_faiss=True but faiss is not installed: pip install faiss-cpu")
    return "faiss" if use_faiss else "torch"


def unit_rows(x, name: str = "rows") -> np.ndarray:
    """``x / ‖x‖`` row-wise as C-contiguous float32 (n, d); rejects zero or non-finite rows."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"{name}: expected a non-empty (n, d) array, got shape {x.shape}")
    norms = np.sqrt(np.einsum("ij,ij->i", x, x, dtype=np.float64))[:, None]  # no float64 copy
    if not np.all(np.isfinite(norms)) or np.any(norms == 0):
        raise ValueError(f"{name}: every row must be finite and non-zero to be L2-normalised")
    return np.ascontiguousarray(x / norms.astype(np.float32))


def cosine_to_distance(similarity: np.ndarray) -> np.ndarray:
    """``sqrt(max(2 − 2 s, 0))`` in float64: chord length between unit vectors with cosine s."""
    return np.sqrt(np.clip(2.0 - 2.0 * np.asarray(similarity, dtype=np.float64), 0.0, None))


def _kth_similarity_faiss(queries: np.ndarray, reference: np.ndarray, rank: int) -> np.ndarray:
    """(n_q,) rank-th largest inner product of each unit query with the unit reference rows."""
    import faiss

    index = faiss.IndexFlatIP(reference.shape[1])
    index.add(reference)
    similarities, _ = index.search(queries, rank)
    return similarities[:, rank - 1]


class _BlockProduct:
    """``Q_b R_bᵀ`` for blocks of unit rows, as torch tensors of shape (len(Q_b), len(R_b)).

    On CPU the product is written by numpy's BLAS into a prefix of one flat float32 buffer
    (reused, so no page faults per block); on CUDA it is ``torch.mm`` on the device."""

    def __init__(self, queries: np.ndarray, reference: np.ndarray, device: torch.device,
                 block: int, reference_block: int):
        self.device = device
        if device.type == "cpu":
            self.queries, self.reference = queries, reference
            self.buffer = np.empty(min(block, len(queries)) * min(reference_block, len(reference)),
                                   dtype=np.float32)
        else:
            self.queries = torch.from_numpy(queries).to(device)
            self.reference = torch.from_numpy(reference).to(device)

    def __call__(self, query_rows: slice, reference_rows: slice) -> torch.Tensor:
        q, r = self.queries[query_rows], self.reference[reference_rows]
        if self.device.type != "cpu":
            return torch.mm(q, r.T)
        out = self.buffer[:len(q) * len(r)].reshape(len(q), len(r))
        np.matmul(q, r.T, out=out)
        return torch.from_numpy(out)


def _top_values(similarity: torch.Tensor, rank: int, chunk: int = 64) -> torch.Tensor:
    """(b, rank) largest entries of each row of ``similarity`` (b, w), unsorted, exactly.

    Shortcut (2–3× faster than ``topk`` over w on CPU): cut each row into w / chunk chunks of
    consecutive entries, keep the ``rank`` chunks with the largest maxima and take the top
    ``rank`` of their rank · chunk entries. Exact: let m be the rank-th largest chunk maximum and
    t the row's rank-th largest entry. The top rank chunk maxima are rank entries ≥ m, so t ≥ m.
    If t > m, every entry ≥ t sits in a chunk with maximum > m, which is kept; if t = m, the kept
    chunks hold every entry > t (same reason) and rank entries ≥ t. Either way the kept entries
    have the same top ``rank`` values as the row. Falls back to ``topk`` when chunk ∤ w or there
    are no more than ``rank`` chunks."""
    n, width = similarity.shape
    if width % chunk or width // chunk <= rank:
        return similarity.topk(min(rank, width), dim=1, sorted=False).values
    chunks = similarity.view(n, width // chunk, chunk)
    best = chunks.amax(dim=2).topk(rank, dim=1, sorted=False).indices
    kept = chunks.gather(1, best.unsqueeze(2).expand(n, rank, chunk))
    return kept.reshape(n, rank * chunk).topk(rank, dim=1, sorted=False).values


@contextlib.contextmanager
def _torch_threads(n: int):
    """Temporarily run torch CPU ops on ``n`` threads."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _kth_of_block(product: _BlockProduct, rows: slice, n_reference: int, rank: int,
                  reference_block: int) -> np.ndarray:
    """(len(rows),) rank-th largest similarity of the query ``rows`` over all reference blocks:
    the top ``rank`` of each block, concatenated to (rows, rank · n_blocks), then its minimum
    of the top ``rank``."""
    candidates = [_top_values(product(rows, slice(start, start + reference_block)), rank)
                  for start in range(0, n_reference, reference_block)]
    merged = torch.cat(candidates, dim=1)
    return merged.topk(rank, dim=1, sorted=False).values.min(dim=1).values.cpu().numpy()


def _kth_similarity_torch(queries: np.ndarray, reference: np.ndarray, rank: int, block: int,
                          reference_block: int, device: torch.device) -> np.ndarray:
    """(n_q,) rank-th largest inner product, by query blocks of ``block`` rows (each against
    every reference block of ``reference_block`` rows, :func:`_kth_of_block`)."""
    product = _BlockProduct(queries, reference, device, block, reference_block)
    kth = np.empty(len(queries), dtype=np.float32)
    # On CPU the selection runs on one torch thread: right after each GEMM numpy's OpenBLAS threads
    # still spin-wait for work, and two torch threads beside them ran the selection ≈ 1.5× slower.
    with _torch_threads(1 if device.type == "cpu" else torch.get_num_threads()):
        for start in range(0, len(queries), block):
            rows = slice(start, start + block)
            kth[rows] = _kth_of_block(product, rows, len(reference), rank, reference_block)
    return kth


def kth_neighbour_distance(queries, reference, k: int = 10, exclude_self: bool = False,
                           block: int = 4096, device: str | torch.device | None = None,
                           use_faiss: bool | None = None,
                           reference_block: int = 16384) -> np.ndarray:
    """Distance from each query row to its k-th nearest reference row, on the unit sphere.

    ``queries`` (n_q, d), ``reference`` (n_r, d); rows are L2-normalised, so
    ``d(q, r) = ‖q̂ − r̂‖ = sqrt(2 − 2 cos(q, r))`` ∈ [0, 2]. Returns (n_q,) float64.

    ``exclude_self=True`` is for a reference cloud against itself (``queries`` must be
    ``reference``, row i being row i): the distance to the k-th nearest *other* row, i.e. the
    (k+1)-th nearest including the row itself (its own distance, 0, is the smallest). Exact
    duplicates of a row count as other rows at distance 0.

    ``use_faiss``: None → see :func:`backend`; True / False force faiss / the blocked torch path
    (float32 products on ``device``, default cuda when available). ``block`` and
    ``reference_block`` bound the torch path's similarity block to ``block × reference_block``
    floats (4096 × 16384 = 256 MiB by default). Both backends return the same distances up to
    float32 rounding of the inner products.
    """
    q = unit_rows(queries, "queries")
    r = q if queries is reference else unit_rows(reference, "reference")
    if q.shape[1] != r.shape[1]:
        raise ValueError(f"queries have d = {q.shape[1]}, reference d = {r.shape[1]}")
    if exclude_self and q.shape != r.shape:
        raise ValueError("exclude_self=True needs queries to be the reference rows themselves")
    rank = k + 1 if exclude_self else k
    if not 1 <= rank <= len(r):
        raise ValueError(f"k = {k} needs at least {rank} reference rows, got {len(r)}")
    if backend(device, use_faiss) == "faiss":
        kth = _kth_similarity_faiss(q, r, rank)
    else:
        kth = _kth_similarity_torch(q, r, rank, block, reference_block, resolve_device(device))
    return cosine_to_distance(kth)
