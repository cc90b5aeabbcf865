"""The order every kNN backend returns, and the helpers that produce it.

Every backend of :func:`~mmreid_unsup.ops.knn.knn_search` returns the same
contract, so a result does not depend on which library happens to be
installed:

- neighbours are ordered by increasing squared L2 distance ``2 - 2 cos``;
  equal distances are ordered by increasing index, and the set cut at rank
  ``k`` is decided by the same rule (a tie that straddles rank ``k`` keeps the
  smaller indices);
- the query itself is always at rank 0 with distance 0, even when exact
  duplicates of it exist.
"""
from typing import Iterable, Iterator, Tuple

import numpy as np
import torch

__all__ = [
    'MAX_CHUNK_ELEMENTS', 'check_knn_inputs', 'sort_and_put_self_first',
    'exact_topk_rows', 'lexicographic_topk', 'upper_block_pairs',
    'symmetric_block_products'
]

#: Upper bound on the number of similarity entries a chunk of a torch
#: search materialises at once (``chunk_rows * N``), about 128 MB in float32.
MAX_CHUNK_ELEMENTS = 1 << 25


def check_knn_inputs(features: torch.Tensor, k: int) -> None:
    """Refuse features that are not ``(N, D)`` and a ``k`` outside ``1..N``.

    Args:
        features (Tensor): the searched set.
        k (int): neighbours requested per sample, the sample included.

    Raises:
        ValueError: naming the shape or ``k`` and ``N``.
    """
    if features.dim() != 2:
        raise ValueError('features must have shape (N, D), got '
                         f'{tuple(features.shape)}')
    num = features.size(0)
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f'k must be a positive integer, got {k!r}')
    if k > num:
        raise ValueError(f'k={k} neighbours requested but there are only '
                         f'N={num} samples (the sample itself counts as its '
                         'first neighbour)')


def sort_and_put_self_first(sims: torch.Tensor, indices: torch.Tensor,
                            query_ids: torch.Tensor
                            ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Order each row by (similarity desc, index asc) with the query first.

    Args:
        sims (Tensor): ``(B, k)`` similarities of the selected neighbours.
        indices (Tensor): ``(B, k)`` their indices (int64).
        query_ids (Tensor): ``(B,)`` the index of each query row.

    Returns:
        tuple[Tensor, Tensor]: squared L2 distances ``(B, k)`` (float32,
        clamped at 0, the query's own distance exactly 0) and indices.
    """
    # Stable two-pass sort = lexicographic sort on (-sim, index).
    order = torch.argsort(indices, dim=1, stable=True)
    sims, indices = sims.gather(1, order), indices.gather(1, order)
    order = torch.argsort(sims, dim=1, descending=True, stable=True)
    sims, indices = sims.gather(1, order), indices.gather(1, order)

    is_self = indices == query_ids[:, None]
    # With more than k exact duplicates of a query that have smaller indices,
    # the query itself may have been cut: it replaces the last neighbour.
    missing = ~is_self.any(dim=1)
    indices[missing, -1] = query_ids[missing]
    is_self[missing, -1] = True
    order = torch.argsort((~is_self).to(torch.uint8), dim=1, stable=True)
    sims, indices = sims.gather(1, order), indices.gather(1, order)

    dists = (2 - 2 * sims.float()).clamp_(min=0)
    dists[:, 0] = 0
    return dists, indices


def exact_topk_rows(sims: torch.Tensor,
                    k: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Top-``k`` similarities per row with ties cut by smaller index.

    Args:
        sims (Tensor): ``(B, N)`` similarities.
        k (int): number of neighbours.

    Returns:
        tuple[Tensor, Tensor]: the ``(B, k)`` selected similarities and their
        column indices, in no particular order.
    """
    num = sims.size(1)
    top_sims, top_idx = sims.topk(min(k + 1, num), dim=1)
    if num == k:
        return top_sims, top_idx
    # Only where the (k+1)-th value equals the k-th can ``topk`` have cut a
    # tie arbitrarily; those rows (rare outside duplicates) are re-cut.
    straddling = (top_sims[:, k] == top_sims[:, k - 1]).nonzero().flatten()
    top_sims, top_idx = top_sims[:, :k].clone(), top_idx[:, :k].clone()
    for row in straddling.tolist():
        # A full stable sort keeps the smaller indices.
        row_sims, row_idx = torch.sort(sims[row], descending=True, stable=True)
        top_sims[row], top_idx[row] = row_sims[:k], row_idx[:k]
    return top_sims, top_idx


def lexicographic_topk(sims: torch.Tensor, indices: torch.Tensor,
                       k: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """The first ``k`` candidates of each row by (similarity desc, index).

    Args:
        sims (Tensor): ``(B, C)`` similarities of the candidates.
        indices (Tensor): ``(B, C)`` their indices.
        k (int): candidates kept per row, ``k <= C``.

    Returns:
        tuple[Tensor, Tensor]: the ``(B, k)`` kept similarities and indices,
        in that order.
    """
    order = torch.argsort(indices, dim=1, stable=True)
    sims, indices = sims.gather(1, order), indices.gather(1, order)
    order = torch.argsort(sims, dim=1, descending=True, stable=True)[:, :k]
    return sims.gather(1, order), indices.gather(1, order)


def upper_block_pairs(num: int, block: int) -> Iterator[Tuple[slice, slice]]:
    """Row blocks ``(a, b)`` of an ``N x N`` symmetric matrix, ``b >= a``.

    A search of a set against itself multiplies only these blocks; each
    serves its rows and, transposed, its columns.

    Args:
        num (int): ``N``.
        block (int): rows per block.

    Yields:
        tuple[slice, slice]: the rows of block ``a`` and of block ``b``.
    """
    starts = range(0, num, block)
    for a in starts:
        rows_a = slice(a, min(a + block, num))
        for b in starts[a // block:]:
            yield rows_a, slice(b, min(b + block, num))


def symmetric_block_products(
    feats: torch.Tensor, block_pairs: Iterable[Tuple[slice, slice]]
) -> Iterator[Tuple[slice, torch.Tensor, int]]:
    """The products of some blocks of ``F F^T``, each for its rows and,
    transposed, for its columns.

    The products are written into two buffers of the largest block so far,
    reused: fresh 64 MB products fault in their pages at every block (the
    float32 search at N = 32,621 took 20.0 s with them, 18.6 s without).
    A yielded block is valid until the next one is asked for.

    Args:
        feats (Tensor): ``(N, D)`` features, any dtype ``torch.mm`` takes;
            not differentiated through.
        block_pairs (Iterable[tuple[slice, slice]]): blocks ``(a, b)`` with
            ``b`` on or above ``a`` (:func:`upper_block_pairs`): slices with
            explicit ``start`` and ``stop`` within ``N`` and step 1.

    Yields:
        tuple[slice, Tensor, int]: rows ``r``, their products with columns
        ``c .. c + C - 1`` (``(len(r), C)``, ``feats``' dtype), and ``c``;
        first block ``(a, b)`` itself, then (when ``b`` is not ``a``) its
        transpose, for the rows of ``b``.
    """
    feats = feats.detach()  # products written into buffers (``out=``)
    products = transposed = None
    for rows_a, rows_b in block_pairs:
        size_a = rows_a.stop - rows_a.start
        size_b = rows_b.stop - rows_b.start
        if products is None or products.numel() < size_a * size_b:
            products = feats.new_empty(size_a * size_b)
        sims = products[:size_a * size_b].view(size_a, size_b)
        torch.mm(feats[rows_a], feats[rows_b].t(), out=sims)
        yield rows_a, sims, rows_b.start
        if rows_b != rows_a:
            if transposed is None or transposed.numel() < size_a * size_b:
                transposed = feats.new_empty(size_a * size_b)
            sims_t = transposed[:size_a * size_b].view(size_b, size_a)
            sims_t.copy_(sims.t())
            yield rows_b, sims_t, rows_a.start
