"""The ``'torch'`` kNN backend: exact search by blocked ``matmul`` + ``topk``.

Runs on the features' device (a GPU when the features are on one). The set
is searched against itself, so only the blocks on and above the diagonal of
the similarity matrix are computed: half the arithmetic of a flat index.
Results follow the ordering contract of :mod:`~mmreid_unsup.ops.knn_ordering`.

:func:`symmetric_block_topk` computes any subset of those blocks; the ranks
of a process group each compute a share of them and merge their lists
(:mod:`~mmreid_unsup.pseudo_labels.sharded_knn`), with the very products
of the single-process search.
"""
from typing import Iterable, Optional, Tuple

import torch

from mmreid_unsup.registry import KNN_BACKENDS
from .knn_ordering import (MAX_CHUNK_ELEMENTS, check_knn_inputs,
                           exact_topk_rows, lexicographic_topk,
                           sort_and_put_self_first, symmetric_block_products,
                           upper_block_pairs)

__all__ = ['torch_knn', 'symmetric_block_topk', 'SYMMETRIC_BLOCK']

#: Rows per block of the symmetric torch search (64 MB blocks).
SYMMETRIC_BLOCK = 4096


def _merge_block(best_sims: torch.Tensor, best_idx: torch.Tensor,
                 rows: slice, block: torch.Tensor, col_offset: int,
                 k: int) -> None:
    """Fold a block of similarities into the running top-``k`` of its rows.

    Args:
        best_sims (Tensor): ``(N, k)`` running best similarities, updated in
            place.
        best_idx (Tensor): ``(N, k)`` their indices, updated in place.
        rows (slice): the rows the block belongs to.
        block (Tensor): ``(len(rows), C)`` similarities of those rows to
            columns ``col_offset .. col_offset + C - 1``.
        col_offset (int): index of the block's first column.
        k (int): neighbours kept per row.
    """
    top_sims, top_idx = exact_topk_rows(block, min(k, block.size(1)))
    sims = torch.cat([best_sims[rows], top_sims], dim=1)
    indices = torch.cat([best_idx[rows], top_idx + col_offset], dim=1)
    kept_sims, pos = sims.topk(k + 1, dim=1)
    # As in ``exact_topk_rows``: a tie across rank k is re-cut by index.
    straddling = (kept_sims[:, k] == kept_sims[:, k - 1]).nonzero().flatten()
    kept_sims, kept_idx = kept_sims[:, :k], indices.gather(1, pos[:, :k])
    if straddling.numel() > 0:
        kept_sims[straddling], kept_idx[straddling] = lexicographic_topk(
            sims[straddling], indices[straddling], k)
    best_sims[rows], best_idx[rows] = kept_sims, kept_idx


def symmetric_block_topk(
        feats: torch.Tensor, k: int,
        block_pairs: Iterable[Tuple[slice, slice]]
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Running top-``k`` of every row over some blocks of ``F F^T``.

    Each block ``(a, b)`` (``b`` on or above ``a``, see
    :func:`~mmreid_unsup.ops.knn_ordering.upper_block_pairs`) is multiplied
    once and serves its rows and, transposed, its columns. Over every block
    of the upper triangle the lists hold the exact top ``k`` of each row;
    over a subset, the top ``k`` among the blocks' columns, to be merged
    with the other subsets' lists
    (:func:`~mmreid_unsup.ops.knn_ordering.lexicographic_topk`): the
    merged result does not depend on how the blocks were divided, ties
    being cut by index everywhere.

    Args:
        feats (Tensor): ``(N, D)`` L2-normalised features.
        k (int): neighbours kept per row.
        block_pairs (Iterable[tuple[slice, slice]]): the blocks ``(a, b)``,
            as :func:`~mmreid_unsup.ops.knn_ordering.upper_block_pairs`
            yields them.

    Returns:
        tuple[Tensor, Tensor]: ``(N, k)`` similarities and int64 indices,
        in no particular order within a row; a row (or a row's slot) no
        block reached holds ``-inf`` and index ``N``.
    """
    num = feats.size(0)
    # Sentinels lose every comparison: -inf similarity, index N.
    best_sims = feats.new_full((num, k), -float('inf'))
    best_idx = torch.full((num, k), num, dtype=torch.long, device=feats.device)
    for rows, sims, first_col in symmetric_block_products(feats, block_pairs):
        _merge_block(best_sims, best_idx, rows, sims, first_col, k)
    return best_sims, best_idx


@KNN_BACKENDS.register_module(name='torch')
def torch_knn(features: torch.Tensor,
              k: int,
              chunk_size: Optional[int] = None,
              symmetric: bool = True) -> Tuple[torch.Tensor, torch.Tensor]:
    """Exact kNN with blocked ``matmul`` + ``topk`` in PyTorch.

    Runs on the features' device; the result follows the ordering contract
    of :mod:`~mmreid_unsup.ops.knn_ordering`. The set is searched against
    itself, so the similarity matrix is symmetric: with ``symmetric=True``
    only the blocks on and above the diagonal are multiplied, each one
    serving its rows and (transposed) its columns, which halves the
    arithmetic of the search.

    Args:
        features (Tensor): ``(N, D)`` L2-normalised features.
        k (int): number of neighbours, the query included.
        chunk_size (int, optional): rows per block. Defaults to 4096 with
            ``symmetric=True`` (64 MB blocks) and otherwise to a size that
            keeps a row chunk's similarities near 128 MB.
        symmetric (bool): multiply only the upper block triangle. Defaults
            to True.

    Returns:
        tuple[Tensor, Tensor]: ``(N, k)`` float32 squared L2 distances and
        ``(N, k)`` int64 neighbour indices, on the features' device.
    """
    check_knn_inputs(features, k)
    num = features.size(0)
    feats = features.detach()
    if not symmetric:
        if chunk_size is None:
            chunk_size = max(1, MAX_CHUNK_ELEMENTS // num)
        dists, indices = [], []
        for start in range(0, num, chunk_size):
            stop = min(start + chunk_size, num)
            sims = feats[start:stop] @ feats.t()
            top_sims, top_idx = exact_topk_rows(sims, k)
            query_ids = torch.arange(start, stop, device=feats.device)
            chunk_dists, chunk_idx = sort_and_put_self_first(
                top_sims, top_idx, query_ids)
            dists.append(chunk_dists)
            indices.append(chunk_idx)
        return torch.cat(dists), torch.cat(indices)

    block = chunk_size or SYMMETRIC_BLOCK
    best_sims, best_idx = symmetric_block_topk(
        feats, k, upper_block_pairs(num, block))
    return sort_and_put_self_first(
        best_sims, best_idx, torch.arange(num, device=feats.device))
