"""The exact kNN search of the whole set, split over the ranks.

Every rank of the default process group calls :func:`sharded_knn_search`
with the same (gathered) features; each computes a share of the search and
every rank returns the whole ``(N, k)`` result, which the k-reciprocal
stages need on every rank (a row's reciprocal set reads its neighbours'
lists). What a share is depends on the backend
:func:`~mmreid_unsup.ops.knn.knn_search` would use:

- ``'torch'``: the blocks of the symmetric search
  (:func:`~mmreid_unsup.ops.knn_torch.symmetric_block_topk`), shared out
  by their size (:func:`.rank_shares.balanced_assignment`); each rank's
  per-row lists are all-gathered and merged. Every product is the
  single-process search's own, so the result is bit-identical to it (with
  the same number of threads per process: a small matrix product can
  round differently with one thread than with two).
- ``'torch_bf16'``: the blocks of the bfloat16 candidate pass likewise,
  then each rank certifies a block of rows
  (:func:`~mmreid_unsup.ops.knn_certified_bf16.certified_rows`) and the
  rows are all-gathered. The result is the exact top ``k`` of each row, as
  in one process.
- ``'faiss'``: each rank searches a block of queries, whole blocks of
  faiss's query block (:func:`.rank_shares.block_aligned_shares`), then
  the rows are all-gathered. On the CPU this gave the single-process
  similarities; on a GPU they can differ in float32 rounding.
- any other backend (``'faiss_hnsw'``, whose graph depends on its build,
  or a backend given as a config with options): rank 0 searches the whole
  set and broadcasts.

The ``'torch'`` blocks are 4096 rows: below 4,097 samples there is one
block and rank 0 does the whole search. Everything gathered is ``O(N k)``
per rank (the per-row lists, ``world size x N x k`` entries in chunks of
rows for the merge); nothing ``O(N^2)`` is sent.
"""
from typing import Callable, List, Tuple, Union

import torch
from mmengine.dist import all_gather, broadcast, get_rank, get_world_size

from mmreid_unsup.ops import l2_normalize
from mmreid_unsup.ops.knn import knn_search, knn_search_function
from mmreid_unsup.ops.knn_certified_bf16 import (BF16_BLOCK, BF16_MARGIN,
                                                 bf16_candidates, bf16_knn,
                                                 bf16_rounding_bound,
                                                 certified_rows)
from mmreid_unsup.ops.knn_faiss import FAISS_QUERY_BLOCK, faiss_knn
from mmreid_unsup.ops.knn_ordering import (check_knn_inputs,
                                           lexicographic_topk,
                                           sort_and_put_self_first,
                                           upper_block_pairs)
from mmreid_unsup.ops.knn_torch import (SYMMETRIC_BLOCK, symmetric_block_topk,
                                        torch_knn)
from mmreid_unsup.utils.rank_collectives import all_gather_rows
from .rank_shares import balanced_assignment, block_aligned_shares, even_shares

__all__ = ['sharded_knn_search']

#: Entries (rows x candidates x ranks) of the lists merged at once.
_MAX_MERGE_ELEMENTS = 1 << 22

#: Per-row lists: ``(similarities or distances, indices)``.
Lists = Tuple[torch.Tensor, torch.Tensor]


def _my_block_pairs(num: int, block: int) -> List[Tuple[slice, slice]]:
    """This rank's share of the blocks of a symmetric search, by size."""
    pairs = list(upper_block_pairs(num, block))
    costs = [(a.stop - a.start) * (b.stop - b.start) for a, b in pairs]
    mine = balanced_assignment(costs, get_world_size())[get_rank()]
    return [pairs[i] for i in mine]


def _merge_rank_lists(sims: torch.Tensor, indices: torch.Tensor, width: int,
                      keep: Callable[[torch.Tensor, torch.Tensor, int],
                                     Lists]) -> Lists:
    """Merge every rank's per-row candidate lists, a chunk of rows at a time.

    Args:
        sims (Tensor): ``(N, C)`` this rank's similarities (``-inf`` where
            it has no candidate).
        indices (Tensor): ``(N, C)`` their indices.
        width (int): candidates kept per row.
        keep (Callable): ``keep(sims, indices, width)`` picks the kept
            candidates of ``(B, ranks x C)`` lists.

    Returns:
        tuple[Tensor, Tensor]: ``(N, width)`` merged lists, the same on
        every rank.
    """
    num, cands = sims.shape
    chunk = max(1, _MAX_MERGE_ELEMENTS // max(1, cands * get_world_size()))
    out_sims, out_idx = [], []
    for start in range(0, num, chunk):
        part_sims = torch.cat(all_gather(sims[start:start + chunk]), dim=1)
        part_idx = torch.cat(all_gather(indices[start:start + chunk]), dim=1)
        kept_sims, kept_idx = keep(part_sims, part_idx, width)
        out_sims.append(kept_sims)
        out_idx.append(kept_idx)
    return torch.cat(out_sims), torch.cat(out_idx)


def _largest(sims: torch.Tensor, indices: torch.Tensor, width: int) -> Lists:
    """The ``width`` largest similarities of each row, largest first."""
    kept, pos = sims.topk(width, dim=1)
    return kept, indices.gather(1, pos)


def _sharded_torch_search(feats: torch.Tensor, k: int) -> Lists:
    """``'torch'``: a share of the symmetric blocks, merged lists."""
    sims, indices = symmetric_block_topk(
        feats, k, _my_block_pairs(feats.size(0), SYMMETRIC_BLOCK))
    sims, indices = _merge_rank_lists(sims, indices, k, lexicographic_topk)
    return sort_and_put_self_first(
        sims, indices, torch.arange(feats.size(0), device=feats.device))


def _sharded_bf16_search(features: torch.Tensor, k: int) -> Lists:
    """``'torch_bf16'``: a share of the candidate blocks, merged candidate
    lists, then a block of rows certified per rank."""
    feats = features.detach().float().contiguous()
    num = feats.size(0)
    num_candidates = min(k + BF16_MARGIN, num)
    low = feats.bfloat16()
    bounds = bf16_rounding_bound(feats, low)
    cand_sims, cand_idx = bf16_candidates(
        low, num_candidates, BF16_BLOCK, _my_block_pairs(num, BF16_BLOCK))
    cand_sims, cand_idx = _merge_rank_lists(cand_sims, cand_idx,
                                            num_candidates, _largest)
    rows = even_shares(num, get_world_size())[get_rank()]
    top_sims, top_idx = certified_rows(feats, low, bounds, cand_sims[rows],
                                       cand_idx[rows], k, rows.start)
    return sort_and_put_self_first(
        all_gather_rows(top_sims), all_gather_rows(top_idx),
        torch.arange(num, device=feats.device))


def _sharded_faiss_search(features: torch.Tensor, k: int) -> Lists:
    """``'faiss'``: whole blocks of faiss's queries per rank."""
    rows = block_aligned_shares(
        features.size(0), FAISS_QUERY_BLOCK, get_world_size())[get_rank()]
    dists, indices = faiss_knn(features, k, rows=rows)
    return all_gather_rows(dists), all_gather_rows(indices)


def _rank0_search(search_fn: Callable, features: torch.Tensor,
                  k: int) -> Lists:
    """Any other backend: rank 0 searches, the others receive."""
    num = features.size(0)
    if get_rank() == 0:
        dists, indices = search_fn(features, k)
    else:
        dists = torch.empty((num, k), device=features.device)
        indices = torch.empty((num, k),
                              dtype=torch.long,
                              device=features.device)
    broadcast(dists, src=0)
    broadcast(indices, src=0)
    return dists, indices


def sharded_knn_search(features: torch.Tensor,
                       k: int,
                       backend: Union[str, dict] = 'auto') -> Lists:
    """:func:`~mmreid_unsup.ops.knn.knn_search`, each rank a share of it.

    Every rank of the default process group must call this with the same
    features, ``k`` and ``backend``. Without a process group (or with one
    rank) it is :func:`~mmreid_unsup.ops.knn.knn_search` itself.

    Args:
        features (Tensor): ``(N, D)`` features, the same on every rank.
        k (int): neighbours per sample, the sample included, ``1 <= k <= N``.
        backend (str | dict): as for
            :func:`~mmreid_unsup.ops.knn.knn_search`. Defaults to
            ``'auto'``.

    Returns:
        tuple[Tensor, Tensor]: ``(N, k)`` float32 squared L2 distances and
        int64 indices on the features' device, the same on every rank,
        following the ordering contract of
        :mod:`~mmreid_unsup.ops.knn_ordering`.
    """
    if get_world_size() == 1:
        return knn_search(features, k, backend=backend)
    check_knn_inputs(features, k)
    k = int(k)
    search_fn = knn_search_function(backend, features)
    features = l2_normalize(features)
    if search_fn is torch_knn:
        return _sharded_torch_search(features.detach(), k)
    if search_fn is bf16_knn:
        return _sharded_bf16_search(features, k)
    if search_fn is faiss_knn:
        return _sharded_faiss_search(features, k)
    return _rank0_search(search_fn, features, k)
