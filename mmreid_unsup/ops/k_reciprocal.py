"""k-reciprocal encoding (Zhong et al., CVPR 2017): each sample as a sparse
distribution over its expanded k-reciprocal neighbours.

The stages, one function each so that each can be timed, tested and
replaced, from ``initial_rank``, the ``k1`` nearest neighbours of every
sample (itself at rank 0, :func:`~mmreid_unsup.ops.knn.knn_search`):

1. :func:`k_reciprocal_neighbors`: ``R(i, k)``, the ``j`` among the first
   ``k + 1`` columns of ``initial_rank[i]`` whose own first ``k + 1`` columns
   contain ``i``. ``initial_rank`` has only ``k1`` columns, so ``R(i, k1)``
   looks at ``k1`` neighbours and ``R(i, round(k1 / 2))`` at
   ``round(k1 / 2) + 1``, exactly as in Cluster-Contrast's
   ``faiss_rerank.compute_jaccard_distance``.
2. :func:`expanded_k_reciprocal_neighbors`: ``R*(i)``, the union of
   ``R(i, k1)`` and every ``R(c, round(k1 / 2))`` with ``c`` in ``R(i, k1)``
   and ``|R(c, k1/2) & R(i, k1)| > 2/3 |R(c, k1/2)|``.
3. :func:`k_reciprocal_encoding`: ``V[i, j] = softmax_j(-d(i, j))`` over
   ``j`` in ``R*(i)``, with ``d = 2 - 2 f_i . f_j``; rows sum to one.
4. :func:`local_query_expansion`: ``V[i] <- mean(V[initial_rank[i, :k2]])``.

Every stage can compute a block of rows only (``rows=slice(start, stop)``),
given the kNN lists of the whole set: row ``i`` of each stage is the same
whether it is computed alone, in a block or with every row, which is how
the labelers split the stages over the ranks of a process group
(:mod:`~mmreid_unsup.pseudo_labels.sharded_jaccard`). A block's result has
``stop - start`` rows and ``N`` columns.

Sets and encodings are ``scipy.sparse`` matrices. The Jaccard distance
between encodings is :mod:`~mmreid_unsup.ops.jaccard_distance` (dense) or
:mod:`~mmreid_unsup.ops.sparse_jaccard` (sparse); the pseudo labelers and
the test-time re-ranking (:mod:`~mmreid_unsup.ops.reranking`) share these
stages.
"""
from typing import Optional, Tuple

import numpy as np
import scipy.sparse as sp
import torch

from .feature_rows import pair_inner_products

__all__ = [
    'k_reciprocal_neighbors', 'expanded_k_reciprocal_neighbors',
    'k_reciprocal_encoding', 'local_query_expansion', 'check_k1_k2'
]

#: Rows of ``initial_rank`` handled at once when checking reciprocity.
_RECIPROCITY_CHUNK_ROWS = 4096
#: Entries of the ``(pairs, members)`` block of the expansion test at once.
_MAX_EXPANSION_ELEMENTS = 1 << 22


def _half(k1: int) -> int:
    """``round(k1 / 2)`` with numpy's round-half-to-even, as the original."""
    return int(np.around(k1 / 2))


def row_range(rows: Optional[slice], num: int) -> Tuple[int, int]:
    """``(start, stop)`` of a block of rows of an ``N``-row set.

    Args:
        rows (slice, optional): contiguous rows (step 1); None for all.
        num (int): ``N``.

    Returns:
        tuple[int, int]: ``0 <= start <= stop <= N``.

    Raises:
        ValueError: for a slice with a step other than 1.
    """
    if rows is None:
        return 0, num
    if rows.step not in (None, 1):
        raise ValueError(f'rows must be a contiguous slice, got {rows}')
    start, stop, _ = rows.indices(num)
    return start, max(start, stop)


def _csr_from_keys(keys: np.ndarray, num_rows: int,
                   num: int) -> sp.csr_matrix:
    """Boolean ``(num_rows, num)`` CSR matrix from sorted unique
    ``i * num + j``, ``i`` counted from the block's first row."""
    rows, cols = np.divmod(keys, num)
    indptr = np.searchsorted(rows, np.arange(num_rows + 1))
    return sp.csr_matrix((np.ones(len(keys), dtype=bool), cols, indptr),
                         shape=(num_rows, num))


def k_reciprocal_neighbors(initial_rank: np.ndarray,
                           k: int,
                           rows: Optional[slice] = None) -> sp.csr_matrix:
    """The k-reciprocal neighbour sets ``R(i, k)`` of every sample.

    ``j`` is in ``R(i, k)`` when ``j`` is among the first ``k + 1`` columns of
    ``initial_rank[i]`` and ``i`` among the first ``k + 1`` columns of
    ``initial_rank[j]`` (fewer when ``initial_rank`` is narrower).

    Args:
        initial_rank (np.ndarray): ``(N, K)`` int neighbour indices, each row
            starting with the sample itself.
        k (int): neighbourhood size.
        rows (slice, optional): compute the sets of these samples only.
            Defaults to None (every sample).

    Returns:
        scipy.sparse.csr_matrix: ``(R, N)`` boolean, ``R`` the number of
        rows asked for (``N`` by default), row ``r`` marking ``R(i, k)`` of
        sample ``i = start + r`` (which always contains ``i``).
    """
    num = initial_rank.shape[0]
    first, last = row_range(rows, num)
    width = min(k + 1, initial_rank.shape[1])
    forward = np.ascontiguousarray(initial_rank[:, :width], dtype=np.int64)
    keys = [np.empty(0, dtype=np.int64)]
    for start in range(first, last, _RECIPROCITY_CHUNK_ROWS):
        stop = min(start + _RECIPROCITY_CHUNK_ROWS, last)
        fwd = forward[start:stop]
        backward = forward[fwd]  # (B, width, width)
        samples = np.arange(start, stop)
        mutual = (backward == samples[:, None, None]).any(axis=2)
        keys.append(
            np.repeat(samples - first, mutual.sum(axis=1)) * num +
            fwd[mutual])
    return _csr_from_keys(np.sort(np.concatenate(keys)), last - first, num)


def _padded_rows(matrix: sp.csr_matrix) -> np.ndarray:
    """Column indices of each CSR row, right-padded with ``-1``."""
    lengths = np.diff(matrix.indptr)
    padded = np.full((matrix.shape[0], max(int(lengths.max()), 1)),
                     -1,
                     dtype=np.int64)
    mask = np.arange(padded.shape[1]) < lengths[:, None]
    padded[mask] = matrix.indices
    return padded


def expanded_k_reciprocal_neighbors(initial_rank: np.ndarray,
                                    k1: int,
                                    rows: Optional[slice] = None
                                    ) -> sp.csr_matrix:
    """The expanded k-reciprocal sets ``R*(i)`` used by the encoding.

    ``R*(i)`` is ``R(i, k1)`` plus every ``R(c, round(k1 / 2))`` of a
    candidate ``c`` in ``R(i, k1)`` that overlaps ``R(i, k1)`` in strictly
    more than two thirds of its own members.

    Args:
        initial_rank (np.ndarray): ``(N, k1)`` neighbour indices, self first.
        k1 (int): the k-reciprocal neighbourhood size.
        rows (slice, optional): compute the sets of these samples only (the
            half-size sets of their candidates are computed for the whole
            set: the candidates can be any sample). Defaults to None (every
            sample).

    Returns:
        scipy.sparse.csr_matrix: ``(R, N)`` boolean (``R = N`` by default),
        row ``r`` marking ``R*(start + r)``.
    """
    num = initial_rank.shape[0]
    first, last = row_range(rows, num)
    full = k_reciprocal_neighbors(initial_rank, k1, rows)
    half = k_reciprocal_neighbors(initial_rank, _half(k1))
    # Keys count rows from the block's first: sorted, since ``full`` is
    # canonical CSR.
    full_keys = (np.repeat(np.arange(last - first), np.diff(full.indptr)) *
                 num + full.indices)
    half_members = _padded_rows(half)
    half_sizes = np.diff(half.indptr)

    # Every (i, c) pair with c in R(i, k1), in chunks of bounded size.
    width = half_members.shape[1]
    chunk = max(1, _MAX_EXPANSION_ELEMENTS // width)
    keys = [full_keys]
    for start in range(0, len(full_keys), chunk):
        pair_keys = full_keys[start:start + chunk]
        pair_rows, candidates = np.divmod(pair_keys, num)
        members = half_members[candidates]  # (P, W), -1 padded
        valid = members >= 0
        member_keys = pair_rows[:, None] * num + members
        pos = np.searchsorted(full_keys,
                              member_keys).clip(max=len(full_keys) - 1)
        overlap = ((full_keys[pos] == member_keys) & valid).sum(axis=1)
        # The float rule of the original implementation, kept literally.
        accepted = overlap > (2 / 3) * half_sizes[candidates]
        keys.append(member_keys[accepted][valid[accepted]])
    return _csr_from_keys(np.unique(np.concatenate(keys)), last - first, num)


def _pair_inner_products(features: torch.Tensor, rows: np.ndarray,
                         cols: np.ndarray) -> np.ndarray:
    """``features[rows[p]] . features[cols[p]]`` as float64 numpy."""
    dots = pair_inner_products(features, torch.from_numpy(rows),
                               torch.from_numpy(cols))
    return dots.double().cpu().numpy()


def _pair_distances(features: torch.Tensor, rows: np.ndarray,
                    cols: np.ndarray, initial_rank: np.ndarray,
                    initial_dist: Optional[np.ndarray],
                    first: int) -> np.ndarray:
    """``2 - 2 f_i . f_j`` for sorted pairs, reusing the kNN's distances.

    Pairs found in ``initial_rank`` take their distance from
    ``initial_dist``; the others are computed from the features.
    ``initial_rank`` and ``initial_dist`` are the rows of the block that
    starts at sample ``first``, to which ``rows`` (absolute) belong.
    """
    num = features.size(0)
    if initial_dist is None:
        return 2 - 2 * _pair_inner_products(features, rows, cols)
    knn_keys = (np.arange(initial_rank.shape[0])[:, None] * num +
                initial_rank).ravel()
    order = np.argsort(knn_keys, kind='stable')
    knn_keys = knn_keys[order]
    knn_dists = np.asarray(initial_dist, dtype=np.float64).ravel()[order]
    keys = (rows.astype(np.int64) - first) * num + cols
    pos = np.searchsorted(knn_keys, keys).clip(max=len(knn_keys) - 1)
    found = knn_keys[pos] == keys
    dists = np.empty(len(keys), dtype=np.float64)
    dists[found] = knn_dists[pos[found]]
    missing = ~found
    dists[missing] = 2 - 2 * _pair_inner_products(features, rows[missing],
                                                  cols[missing])
    return dists


def k_reciprocal_encoding(features: torch.Tensor,
                          initial_rank: np.ndarray,
                          k1: int,
                          initial_dist: Optional[np.ndarray] = None,
                          rows: Optional[slice] = None) -> sp.csr_matrix:
    """Encode each sample as a softmax over its expanded k-reciprocal set.

    Args:
        features (Tensor): ``(N, D)`` L2-normalised features.
        initial_rank (np.ndarray): ``(N, k1)`` neighbour indices, self first.
        k1 (int): the k-reciprocal neighbourhood size.
        initial_dist (np.ndarray, optional): ``(N, k1)`` squared L2
            distances that go with ``initial_rank`` (the kNN's output). When
            given, they are reused for the pairs they cover instead of being
            recomputed from the features (the same values up to float32
            rounding). Only the rows of ``rows`` are read. Defaults to
            None.
        rows (slice, optional): encode these samples only. Defaults to None
            (every sample).

    Returns:
        scipy.sparse.csr_matrix: ``(R, N)`` float64 ``V`` (``R = N`` by
        default) with ``V[r, j] = exp(-d_ij) / sum_{j' in R*(i)} exp(-d_ij')``
        for ``j`` in ``R*(i)``, ``i = start + r``, ``d_ij = 2 - 2 f_i . f_j``;
        each row sums to one.
    """
    num = initial_rank.shape[0]
    first, last = row_range(rows, num)
    expanded = expanded_k_reciprocal_neighbors(initial_rank, k1, rows)
    block_rows = np.repeat(np.arange(last - first), np.diff(expanded.indptr))
    dists = _pair_distances(
        features, block_rows + first, expanded.indices,
        initial_rank[first:last],
        None if initial_dist is None else initial_dist[first:last], first)
    # d lies in [0, 4], so exp(-d) needs no max-shift to be stable.
    weights = np.exp(-dists)
    weights /= np.bincount(
        block_rows, weights=weights, minlength=last - first)[block_rows]
    return sp.csr_matrix((weights, expanded.indices, expanded.indptr),
                         shape=(last - first, num))


def local_query_expansion(encoding: sp.csr_matrix,
                          initial_rank: np.ndarray,
                          k2: int,
                          rows: Optional[slice] = None) -> sp.csr_matrix:
    """Replace each row of the encoding by the mean over its ``k2`` nearest
    neighbours (itself included).

    Args:
        encoding (scipy.sparse.csr_matrix): ``(N, N)`` encoding ``V`` of the
            whole set (the neighbours of a block's rows can be any sample).
        initial_rank (np.ndarray): ``(N, K)`` neighbour indices, self first,
            ``K >= k2``.
        k2 (int): number of neighbours averaged; ``1`` returns ``encoding``
            (its rows ``rows``).
        rows (slice, optional): expand these samples' rows only. Defaults
            to None (every sample).

    Returns:
        scipy.sparse.csr_matrix: ``(R, N)`` expanded encoding (``R = N`` by
        default).
    """
    if k2 == 1:
        return encoding if rows is None else encoding[rows]
    num = initial_rank.shape[0]
    first, last = row_range(rows, num)
    cols = np.ascontiguousarray(initial_rank[first:last, :k2], dtype=np.int64)
    weights = np.full(cols.size, 1.0 / k2)
    indptr = np.arange(0, cols.size + 1, k2)
    averaging = sp.csr_matrix((weights, cols.ravel(), indptr),
                              shape=(last - first, num))
    expanded = (averaging @ encoding).tocsr()
    expanded.sort_indices()
    return expanded


def check_k1_k2(num: int, k1: int, k2: int) -> None:
    """Refuse ``k1`` and ``k2`` the encoding and its expansion cannot use.

    Args:
        num (int): number of samples ``N``.
        k1 (int): the k-reciprocal neighbourhood size, ``1 <= k1 <= N``.
        k2 (int): neighbours of the local query expansion, ``1 <= k2 <= k1``.

    Raises:
        ValueError: naming the offending values.
    """
    if k1 < 1 or k2 < 1:
        raise ValueError(f'k1 and k2 must be >= 1, got k1={k1}, k2={k2}')
    if k2 > k1:
        raise ValueError(f'k2={k2} must not exceed k1={k1}: the query '
                         'expansion averages over the k1-NN list')
    if k1 > num:
        raise ValueError(f'k1={k1} exceeds the number of samples N={num}')
