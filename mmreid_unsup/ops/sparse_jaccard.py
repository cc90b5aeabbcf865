"""Sparse, chunked k-reciprocal Jaccard distance.

The same distance as
:func:`~mmreid_unsup.ops.compute_jaccard_distance`, the dense
reference, which stays (Cluster-Contrast's ``compute_jaccard_distance``:
k-reciprocal encoding with ``k1``, local query expansion with ``k2``), here
returned as a sparse graph instead of a dense ``(N, N)`` array, so that
memory grows with ``N`` rather than ``N ** 2``.

Why it can be sparse: the distance ``1 - m_ij / (2 - m_ij)`` with
``m_ij = sum_k min(V_ik, V_jk)`` is exactly 1 unless rows ``i`` and ``j`` of
the encoding ``V`` share a column, and each row of ``V`` has a few dozen
non-zeros. The pairs that share a column are enumerated through the columns
(an inverted index), for ``i <= j`` only, in chunks of rows with a bounded
number of ``(i, k, j)`` triples; the minimum-sums of a chunk are grouped by a
single ``numpy`` sort of ``(pair key, value)`` packed into ``uint64`` words.
Pairs farther than ``max_distance`` are dropped as they are produced, which is
what keeps the graph small for DBSCAN (it only needs pairs within ``eps``).

Pairs missing from the graph are at distance 1 (they share no column, or
were dropped by ``max_distance``). Stored entries keep exact zeros
(duplicates, the diagonal) as explicit values, as scikit-learn's sparse
precomputed neighbourhoods require.

The work can be split by rows: :class:`JaccardPairs` enumerates the pairs
``i <= j`` of any block of rows ``i``, each pair's distance independent of
the block it is computed in, and :func:`symmetric_jaccard_graph` assembles
the graph from the blocks' pairs. The labelers split it this way over the
ranks of a process group (:mod:`~mmreid_unsup.pseudo_labels.sharded_jaccard`),
in blocks of equal work (:attr:`JaccardPairs.row_triples`).
"""
import sys
from typing import Optional, Tuple

import numpy as np
import scipy.sparse as sp
import torch

from mmreid_unsup.utils.progress import ProgressCallback
from .feature_rows import l2_normalize
from .jaccard_distance import row_chunks
from .k_reciprocal import (check_k1_k2, k_reciprocal_encoding,
                           local_query_expansion, row_range)
from .knn import knn_search

__all__ = [
    'sparse_jaccard_from_encoding', 'compute_sparse_jaccard_distance',
    'JaccardPairs', 'symmetric_jaccard_graph', 'DEFAULT_MAX_TRIPLES'
]

#: ``(i, k, j)`` triples enumerated at once by the Jaccard stage (about 40
#: bytes of working memory each). Small chunks stay in the CPU caches: on the
#: development machine 2 ** 18 ran 2.5x faster than 2 ** 22.
DEFAULT_MAX_TRIPLES = 1 << 18

_ENCODING_DTYPES = {'float32': np.float32, 'float16': np.float16}


def _csc_positions(csr: sp.csr_matrix):
    """Column-major view of a canonical CSR matrix, tied to its entries.

    Returns:
        tuple: ``(csc_indptr, csc_rows, csc_vals, pos_in_csc)`` where
        ``pos_in_csc[e]`` is the position, in the column-major arrays, of the
        CSR entry ``e``. Rows are increasing within each column.
    """
    nnz = csr.nnz
    # Carry each entry's CSR slot (+1, so that no value is zero) through the
    # conversion; csr -> csc keeps row indices increasing within a column.
    slots = sp.csr_matrix((np.arange(1, nnz + 1, dtype=np.int64), csr.indices,
                           csr.indptr),
                          shape=csr.shape).tocsc()
    src = slots.data - 1
    pos_in_csc = np.empty(nnz, dtype=np.int64)
    pos_in_csc[src] = np.arange(nnz)
    return (slots.indptr.astype(np.int64), slots.indices, csr.data[src],
            pos_in_csc)


class JaccardPairs:
    """The pairs ``i <= j`` of an encoding's rows and their Jaccard distance.

    Prepares the encoding once (precision, column-major view) so that the
    pairs of any block of rows can then be enumerated
    (:meth:`upper_pairs`); the distance of a pair does not depend on the
    block it is computed in.

    Args:
        encoding (scipy.sparse.spmatrix): ``(N, N)`` non-negative ``V``
            whose rows sum to one.
        dtype (str): precision the encoding is stored and compared in,
            ``'float32'`` or ``'float16'`` (Cluster-Contrast's
            ``use_float16``; halves the encoding's memory, distances then
            deviate by about 1e-3). Sums are accumulated in float64 either
            way. Defaults to ``'float32'``.

    Attributes:
        num (int): ``N``.
        row_triples (np.ndarray): ``(N,)`` float64 ``(i, k, j)`` triples
            row ``i`` enumerates, the work of the row.
    """

    def __init__(self, encoding: sp.spmatrix, dtype: str = 'float32') -> None:
        if dtype not in _ENCODING_DTYPES:
            raise ValueError(
                f'dtype must be one of {sorted(_ENCODING_DTYPES)}, '
                f'got {dtype!r}')
        csr = sp.csr_matrix(encoding, dtype=np.float64, copy=True)
        csr.sum_duplicates()
        csr.sort_indices()
        csr.data = csr.data.astype(_ENCODING_DTYPES[dtype]).astype(
            np.float32)
        csr.eliminate_zeros()
        num = csr.shape[0]
        if num >= 1 << 32:
            raise ValueError(
                f'N={num} samples do not fit the 32-bit pair keys')
        self.num = num
        self._csr = csr
        (self._csc_indptr, self._csc_rows, self._csc_vals,
         self._pos_in_csc) = _csc_positions(csr)
        self._entry_rows = np.repeat(np.arange(num), np.diff(csr.indptr))
        # Entry (i, k) pairs with the entries (j, k), j >= i: they follow it
        # in column k's run, which lists rows in increasing order.
        self._reps = self._csc_indptr[csr.indices + 1] - self._pos_in_csc
        self.row_triples = np.bincount(
            self._entry_rows, weights=self._reps, minlength=num)

    def upper_pairs(
        self,
        rows: Optional[slice] = None,
        max_distance: Optional[float] = None,
        max_triples: int = DEFAULT_MAX_TRIPLES,
        progress: Optional[ProgressCallback] = None
    ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The pairs ``(i, j)``, ``j >= i``, of a block of rows ``i``.

        Args:
            rows (slice, optional): the rows ``i``. Defaults to None (all).
            max_distance (float, optional): keep only pairs at distance
                ``<= max_distance`` (the diagonal is always kept). ``None``
                keeps every pair closer than 1. Defaults to None.
            max_triples (int): ``(i, k, j)`` triples enumerated per chunk,
                which bounds the working memory (about 40 bytes per triple).
            progress (callable, optional): ``progress(rows_done, num_rows)``
                of the block, called after each chunk.

        Returns:
            tuple[np.ndarray, np.ndarray, np.ndarray]: int64 ``i`` and ``j``
            and float32 ``max(0, 1 - m_ij / (2 - m_ij))`` (0 on the
            diagonal) of the kept pairs, ordered by ``i``.
        """
        num, csr = self.num, self._csr
        first, last = row_range(rows, num)
        max_rows = max(1, ((1 << 32) - 1) // max(num, 1) - 1)

        # One uint64 word per triple: its low half holds the minimum's
        # float32 bits, its high half the pair key ``(i - start) * N + j``
        # (< 2 ** 32 by the choice of ``max_rows``). One sort of the words
        # groups the triples by pair and carries the values along.
        low, high = (0, 1) if sys.byteorder == 'little' else (1, 0)
        ramp = np.arange(max_triples, dtype=np.int64)
        out_rows = [np.empty(0, dtype=np.int64)]
        out_cols = [np.empty(0, dtype=np.int64)]
        out_dist = [np.empty(0, dtype=np.float32)]
        for start, stop in row_chunks(self.row_triples[first:last],
                                      max_triples, max_rows):
            start, stop = start + first, stop + first
            lo, hi = csr.indptr[start], csr.indptr[stop]
            counts = self._reps[lo:hi]
            total = int(counts.sum())
            if total == 0:  # rows without any entry (not an encoding's)
                continue
            if total > len(ramp):
                ramp = np.arange(total, dtype=np.int64)
            # Column-major positions of the partners: a ragged arange per
            # entry.
            positions = np.repeat(
                self._pos_in_csc[lo:hi] - (np.cumsum(counts) - counts),
                counts)
            positions += ramp[:total]
            words = np.empty((total, 2), dtype=np.uint32)
            np.minimum(
                np.repeat(csr.data[lo:hi], counts),
                self._csc_vals[positions],
                out=words[:, low].view(np.float32))
            base = ((self._entry_rows[lo:hi] - start) * num).astype(
                np.uint32)
            np.add(
                np.repeat(base, counts),
                self._csc_rows[positions].astype(np.uint32),
                out=words[:, high])
            del positions
            packed = words.view(np.uint64).ravel()
            packed.sort()
            keys = words[:, high]
            is_first = np.empty(total, dtype=bool)
            is_first[0] = True
            np.not_equal(keys[1:], keys[:-1], out=is_first[1:])
            first_of_pair = np.flatnonzero(is_first)
            group = np.cumsum(is_first, dtype=np.int64)
            group -= 1
            sums = np.bincount(
                group,
                weights=words[:, low].view(np.float32),
                minlength=len(first_of_pair))
            pair_keys = keys[first_of_pair].astype(np.int64)
            del words, packed, keys, is_first, group
            dist = np.maximum(1 - sums / (2 - sums), 0).astype(np.float32)
            pair_rows, pair_cols = np.divmod(pair_keys, num)
            pair_rows += start
            diagonal = pair_rows == pair_cols
            dist[diagonal] = 0
            if max_distance is not None:
                kept = (dist <= max_distance) | diagonal
                pair_rows, pair_cols, dist = (pair_rows[kept],
                                              pair_cols[kept], dist[kept])
            out_rows.append(pair_rows)
            out_cols.append(pair_cols)
            out_dist.append(dist)
            if progress is not None:
                progress(stop - first, last - first)
        return (np.concatenate(out_rows), np.concatenate(out_cols),
                np.concatenate(out_dist))


def symmetric_jaccard_graph(rows: np.ndarray, cols: np.ndarray,
                            dist: np.ndarray, num: int) -> sp.csr_matrix:
    """The symmetric graph of the pairs ``i <= j``
    (:meth:`JaccardPairs.upper_pairs`, of one or several blocks).

    Args:
        rows (np.ndarray): ``(P,)`` int ``i`` of each pair.
        cols (np.ndarray): ``(P,)`` int ``j >= i``.
        dist (np.ndarray): ``(P,)`` float32 distances.
        num (int): ``N``.

    Returns:
        scipy.sparse.csr_matrix: ``(N, N)`` float32, symmetric, canonical
        (sorted indices), the distance stored at ``(i, j)`` and ``(j, i)``
        and the diagonal's explicit zeros kept.
    """
    off = rows != cols
    index_dtype = np.int32 if num < (1 << 31) else np.int64
    graph = sp.coo_matrix(
        (np.concatenate([dist, dist[off]]),
         (np.concatenate([rows, cols[off]]).astype(index_dtype),
          np.concatenate([cols, rows[off]]).astype(index_dtype))),
        shape=(num, num))
    # coo -> csr sorts the indices and keeps the explicit zeros.
    return graph.tocsr()


def sparse_jaccard_from_encoding(
        encoding: sp.spmatrix,
        max_distance: Optional[float] = None,
        dtype: str = 'float32',
        max_triples: int = DEFAULT_MAX_TRIPLES,
        progress: Optional[ProgressCallback] = None) -> sp.csr_matrix:
    """Sparse Jaccard distance between the rows of an encoding.

    Args:
        encoding (scipy.sparse.spmatrix): ``(N, N)`` non-negative ``V`` whose
            rows sum to one.
        max_distance (float, optional): keep only pairs at distance
            ``<= max_distance`` (the diagonal is always kept). ``None`` keeps
            every pair closer than 1. Defaults to None.
        dtype (str): precision the encoding is stored and compared in,
            ``'float32'`` or ``'float16'`` (Cluster-Contrast's
            ``use_float16``; halves the encoding's memory, distances then
            deviate by about 1e-3). Sums are accumulated in float64 either
            way. Defaults to ``'float32'``.
        max_triples (int): ``(i, k, j)`` triples enumerated per chunk, which
            bounds the working memory (about 40 bytes per triple).
        progress (callable, optional): ``progress(rows_done, num_rows)``
            called after each chunk.

    Returns:
        scipy.sparse.csr_matrix: ``(N, N)`` float32, symmetric, canonical
        (sorted indices), with ``max(0, 1 - m_ij / (2 - m_ij))`` stored for
        every kept pair and an explicit zero diagonal. Absent pairs are at
        distance 1.
    """
    pairs = JaccardPairs(encoding, dtype)
    rows, cols, dist = pairs.upper_pairs(
        max_distance=max_distance, max_triples=max_triples, progress=progress)
    return symmetric_jaccard_graph(rows, cols, dist, pairs.num)


def compute_sparse_jaccard_distance(
        features: torch.Tensor,
        k1: int = 30,
        k2: int = 6,
        max_distance: Optional[float] = None,
        dtype: str = 'float32',
        backend: str = 'auto',
        max_triples: int = DEFAULT_MAX_TRIPLES,
        progress: Optional[ProgressCallback] = None) -> sp.csr_matrix:
    """k-reciprocal Jaccard distance as a sparse graph.

    Equal, on every stored pair, to
    :func:`~mmreid_unsup.ops.compute_jaccard_distance` (the dense
    reference) up to float32 rounding; absent pairs are at distance 1 there.

    Args:
        features (Tensor): ``(N, D)`` features (any device); L2-normalised
            here.
        k1 (int): k-reciprocal neighbourhood size. Defaults to 30.
        k2 (int): neighbours averaged by the local query expansion; 1
            disables it. Defaults to 6.
        max_distance (float, optional): drop pairs farther than this (e.g.
            DBSCAN's ``eps``). Defaults to None (keep every pair closer than
            1).
        dtype (str): ``'float32'`` or ``'float16'`` encoding, see
            :func:`sparse_jaccard_from_encoding`. Defaults to ``'float32'``.
        backend (str): kNN backend, see
            :func:`~mmreid_unsup.ops.knn.knn_search`. Defaults to
            ``'auto'``.
        max_triples (int): working-set bound of the Jaccard stage.
        progress (callable, optional): ``progress(rows_done, num_rows)`` of
            the Jaccard stage.

    Returns:
        scipy.sparse.csr_matrix: ``(N, N)`` float32 symmetric distance graph
        with an explicit zero diagonal, see
        :func:`sparse_jaccard_from_encoding`.
    """
    features = l2_normalize(torch.as_tensor(features))
    check_k1_k2(features.size(0), k1, k2)
    initial_dist, initial_rank = knn_search(features, k1, backend=backend)
    initial_rank = initial_rank.cpu().numpy()
    encoding = k_reciprocal_encoding(features, initial_rank, k1,
                                     initial_dist.cpu().numpy())
    encoding = local_query_expansion(encoding, initial_rank, k2)
    return sparse_jaccard_from_encoding(
        encoding,
        max_distance=max_distance,
        dtype=dtype,
        max_triples=max_triples,
        progress=progress)

