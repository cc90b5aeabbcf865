"""k-reciprocal Jaccard distance (Zhong et al., CVPR 2017), dense, as
Cluster-Contrast computes it for pseudo labelling.

The distance between two k-reciprocal encodings ``V_i`` and ``V_j``
(:mod:`~mmreid_unsup.ops.k_reciprocal`, rows summing to one) is
``1 - sum_k min(V_ik, V_jk) / (2 - sum_k min(V_ik, V_jk))``, clamped at 0.

:func:`compute_jaccard_distance` runs the whole pipeline (kNN search,
encoding, local query expansion, distance) and returns a dense ``(N, N)``
array, which makes it the *reference*: ``DBSCANLabeler(sparse=False)`` and
the tests compare against it, while the labelers use the sparse graph of
:mod:`~mmreid_unsup.ops.sparse_jaccard`, built from the same stages. The
min-sums of rows against an inverted index (:func:`min_sums`) also serve
the test-time re-ranking (:mod:`~mmreid_unsup.ops.reranking`).
"""
from typing import Iterator, Tuple

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F

from .k_reciprocal import (check_k1_k2, k_reciprocal_encoding,
                           local_query_expansion)
from .knn import knn_search

__all__ = [
    'compute_jaccard_distance', 'jaccard_distance_from_encoding', 'min_sums',
    'row_chunks'
]

#: ``(row, column)`` pairs enumerated at once by the Jaccard stage.
_MAX_JACCARD_PAIRS = 1 << 22
#: Entries of the dense block of minimum-sums built at once.
_MAX_JACCARD_BLOCK = 1 << 24


def row_chunks(pair_counts: np.ndarray, max_pairs: int,
               max_rows: int) -> Iterator[Tuple[int, int]]:
    """Split rows into ``[start, stop)`` runs of bounded work (>= 1 row).

    Args:
        pair_counts (np.ndarray): ``(N,)`` work of each row (the pairs or
            triples it enumerates).
        max_pairs (int): work per run; a run holds at least one row even
            when that row alone exceeds it.
        max_rows (int): rows per run at most.

    Yields:
        tuple[int, int]: ``start`` and ``stop`` of each run, in order.
    """
    num = len(pair_counts)
    cumulative = np.concatenate([[0], np.cumsum(pair_counts)])
    start = 0
    while start < num:
        stop = int(
            np.searchsorted(
                cumulative, cumulative[start] + max_pairs, side='right')) - 1
        stop = min(max(stop, start + 1), start + max_rows, num)
        yield start, stop
        start = stop


def min_sums(csr: sp.csr_matrix, csc: sp.csc_matrix, start: int,
             stop: int) -> np.ndarray:
    """``S[i, j] = sum_k min(A_ik, B_jk)`` for rows ``start <= i < stop``.

    Only columns ``k`` where row ``i`` of ``A`` is non-zero contribute, and
    for each such ``k`` only the rows ``j`` of ``B`` non-zero in column
    ``k`` (an inverted index, as in the original implementation).

    Args:
        csr (scipy.sparse.csr_matrix): ``(M, K)`` encodings ``A``, sorted
            indices.
        csc (scipy.sparse.csc_matrix): ``(P, K)`` encodings ``B`` in
            column-major form, sorted indices (``A`` itself for the
            distances within one set, the gallery for re-ranking).
        start (int): first row of ``A``.
        stop (int): one past the last row of ``A``.

    Returns:
        np.ndarray: ``(stop - start, P)`` float64.
    """
    num = csc.shape[0]
    lo, hi = csr.indptr[start], csr.indptr[stop]
    cols = csr.indices[lo:hi]
    vals = csr.data[lo:hi]
    local_rows = np.repeat(
        np.arange(stop - start), np.diff(csr.indptr[start:stop + 1]))
    col_counts = np.diff(csc.indptr)
    reps = col_counts[cols]
    total = int(reps.sum())
    # Positions, in the CSC arrays, of every column k's entries: a ragged
    # ``arange(csc.indptr[k], csc.indptr[k + 1])`` per non-zero (i, k).
    offsets = np.arange(total) - np.repeat(np.cumsum(reps) - reps, reps)
    positions = np.repeat(csc.indptr[cols], reps) + offsets
    mins = np.minimum(np.repeat(vals, reps), csc.data[positions])
    flat = np.repeat(local_rows, reps) * num + csc.indices[positions]
    sums = np.bincount(flat, weights=mins, minlength=(stop - start) * num)
    return sums.reshape(stop - start, num)


def jaccard_distance_from_encoding(encoding: sp.spmatrix) -> np.ndarray:
    """Jaccard distance between the rows of an encoding that sum to one.

    Args:
        encoding (scipy.sparse.spmatrix): ``(N, N)`` non-negative ``V`` whose
            rows sum to one.

    Returns:
        np.ndarray: ``(N, N)`` float32 distance
        ``max(0, 1 - m_ij / (2 - m_ij))`` with ``m_ij = sum_k min(V_ik,
        V_jk)``; ``2 - m_ij`` is ``sum_k max(V_ik, V_jk)``. Pairs that share
        no column are at distance 1.
    """
    csr = sp.csr_matrix(encoding)
    csr.eliminate_zeros()
    csr.sort_indices()
    csc = csr.tocsc()
    csc.sort_indices()
    num = csr.shape[0]
    col_counts = np.diff(csc.indptr)
    pair_counts = np.bincount(
        np.repeat(np.arange(num), np.diff(csr.indptr)),
        weights=col_counts[csr.indices],
        minlength=num)
    dist = np.empty((num, num), dtype=np.float32)
    max_rows = max(1, _MAX_JACCARD_BLOCK // max(num, 1))
    for start, stop in row_chunks(pair_counts, _MAX_JACCARD_PAIRS, max_rows):
        sums = min_sums(csr, csc, start, stop)
        block = 1 - sums / (2 - sums)
        np.maximum(block, 0, out=block)
        dist[start:stop] = block
    return dist


def compute_jaccard_distance(features: torch.Tensor,
                             k1: int = 30,
                             k2: int = 6,
                             backend: str = 'auto') -> np.ndarray:
    """k-reciprocal Jaccard distance between all pairs of samples.

    The features are L2-normalised first, so the kNN's squared L2 distance
    and the encoding's ``2 - 2 f_i . f_j`` agree.

    Args:
        features (Tensor): ``(N, D)`` features (any device).
        k1 (int): k-reciprocal neighbourhood size. Defaults to 30.
        k2 (int): neighbours averaged by the local query expansion; 1
            disables it. Defaults to 6.
        backend (str): kNN backend, see
            :func:`~mmreid_unsup.ops.knn.knn_search`. Defaults to
            ``'auto'``.

    Returns:
        np.ndarray: ``(N, N)`` float32 distances in ``[0, 1]``, symmetric,
        with a zero diagonal.
    """
    features = F.normalize(torch.as_tensor(features).detach().float(), dim=1)
    check_k1_k2(features.size(0), k1, k2)
    _, initial_rank = knn_search(features, k1, backend=backend)
    initial_rank = initial_rank.cpu().numpy()
    encoding = k_reciprocal_encoding(features, initial_rank, k1)
    encoding = local_query_expansion(encoding, initial_rank, k2)
    return jaccard_distance_from_encoding(encoding)
