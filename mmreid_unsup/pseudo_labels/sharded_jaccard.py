"""The k-reciprocal encoding and the sparse Jaccard graph, split over ranks.

The stages after the kNN search (:mod:`~mmreid_unsup.ops.k_reciprocal`,
:mod:`~mmreid_unsup.ops.sparse_jaccard`) compute each row from the kNN
lists and encodings of the whole set, so with those on every rank each
rank computes a block of rows and the blocks are all-gathered:

1. :func:`sharded_k_reciprocal_encoding`: each rank encodes a block of
   rows (even blocks); the encoding ``V`` is all-gathered, because the
   local query expansion of a row averages its neighbours' rows; each rank
   expands its block and the expanded encoding is all-gathered, because a
   row's Jaccard pairs are found through the columns of every row.
2. :func:`sharded_jaccard_graph`: each rank enumerates the pairs ``i <= j``
   of a block of rows, the blocks of about equal work
   (:attr:`~mmreid_unsup.ops.sparse_jaccard.JaccardPairs.row_triples`);
   the pairs are gathered and rank 0 assembles the graph.

Every row is computed as in one process, so the graph is bit-identical to
the single-process one. What is gathered is ``O(N k)``: an encoding row
holds about as many entries as ``k1`` (28 on average, 36 after the query
expansion, at MSMT17 size with Cluster-Contrast's defaults), the graph the
pairs within ``max_distance``. Every rank must call these functions, with
the same inputs.
"""
from typing import Optional

import numpy as np
import scipy.sparse as sp
import torch
from mmengine.dist import get_rank, get_world_size

from mmreid_unsup.ops.k_reciprocal import (k_reciprocal_encoding,
                                           local_query_expansion)
from mmreid_unsup.ops.sparse_jaccard import (DEFAULT_MAX_TRIPLES,
                                             JaccardPairs,
                                             symmetric_jaccard_graph)
from mmreid_unsup.utils.progress import ProgressCallback
from mmreid_unsup.utils.rank_collectives import all_gather_array
from .rank_shares import even_shares, weighted_shares

__all__ = [
    'all_gather_csr_rows', 'sharded_k_reciprocal_encoding',
    'sharded_jaccard_graph'
]


def all_gather_csr_rows(block: sp.csr_matrix) -> sp.csr_matrix:
    """Every rank's block of rows of a sparse matrix, stacked in rank order.

    Every rank of the default process group must call this.

    Args:
        block (scipy.sparse.csr_matrix): ``(R_r, M)`` this rank's rows, with
            sorted indices; ``M`` the same on every rank.

    Returns:
        scipy.sparse.csr_matrix: ``(sum_r R_r, M)``, the blocks' arrays
        concatenated, the same on every rank.
    """
    lengths = all_gather_array(np.diff(block.indptr).astype(np.int64))
    indices = all_gather_array(block.indices.astype(np.int64))
    data = all_gather_array(block.data)
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    return sp.csr_matrix((data, indices, indptr),
                         shape=(len(lengths), block.shape[1]))


def sharded_k_reciprocal_encoding(features: torch.Tensor,
                                  initial_rank: np.ndarray,
                                  initial_dist: Optional[np.ndarray], k1: int,
                                  k2: int) -> sp.csr_matrix:
    """The expanded k-reciprocal encoding of the whole set, on every rank.

    Equal to :func:`~mmreid_unsup.ops.k_reciprocal.k_reciprocal_encoding`
    followed by :func:`~mmreid_unsup.ops.k_reciprocal.local_query_expansion`
    in one process, bit for bit.

    Args:
        features (Tensor): ``(N, D)`` L2-normalised features.
        initial_rank (np.ndarray): ``(N, k1)`` kNN indices, self first.
        initial_dist (np.ndarray, optional): ``(N, k1)`` their squared L2
            distances, reused for the pairs they cover; None recomputes
            every distance.
        k1 (int): the k-reciprocal neighbourhood size.
        k2 (int): neighbours of the local query expansion.

    Returns:
        scipy.sparse.csr_matrix: ``(N, N)`` expanded encoding.
    """
    rows = even_shares(initial_rank.shape[0], get_world_size())[get_rank()]
    encoding = all_gather_csr_rows(
        k_reciprocal_encoding(features, initial_rank, k1, initial_dist, rows))
    if k2 == 1:
        return encoding
    return all_gather_csr_rows(
        local_query_expansion(encoding, initial_rank, k2, rows))


def sharded_jaccard_graph(
        encoding: sp.csr_matrix,
        max_distance: Optional[float] = None,
        dtype: str = 'float32',
        max_triples: int = DEFAULT_MAX_TRIPLES,
        progress: Optional[ProgressCallback] = None
) -> Optional[sp.csr_matrix]:
    """The sparse Jaccard graph, each rank a block of rows, on rank 0.

    Equal to :func:`~mmreid_unsup.ops.sparse_jaccard_from_encoding` of the
    same arguments in one process, bit for bit.

    Args:
        encoding (scipy.sparse.csr_matrix): ``(N, N)`` expanded encoding,
            the same on every rank.
        max_distance (float, optional): keep only pairs within it (and the
            diagonal). Defaults to None.
        dtype (str): ``'float32'`` or ``'float16'`` encoding. Defaults to
            ``'float32'``.
        max_triples (int): working-set bound per chunk.
        progress (callable, optional): ``progress(rows_done, num_rows)`` of
            this rank's block.

    Returns:
        scipy.sparse.csr_matrix, optional: the ``(N, N)`` graph on rank 0,
        None on the other ranks.
    """
    pairs = JaccardPairs(encoding, dtype)
    rows = weighted_shares(pairs.row_triples, get_world_size())[get_rank()]
    upper = pairs.upper_pairs(rows, max_distance, max_triples, progress)
    del pairs
    # Blocks in rank order: the pairs come in the single-process order.
    row_ids, col_ids, dist = (all_gather_array(array) for array in upper)
    if get_rank() != 0:
        return None
    return symmetric_jaccard_graph(row_ids, col_ids, dist, encoding.shape[0])
