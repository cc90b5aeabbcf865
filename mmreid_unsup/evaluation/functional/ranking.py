"""Re-ID ranking metrics: mAP, CMC and mINP with the standard junk rule.

For each query the gallery is sorted by increasing distance (a stable sort,
so equal distances keep the gallery order). Gallery items with the query's
identity *and* camera are junk: they are removed before anything is counted.
Of the rest, items with the query's identity are true matches. Queries
without any true match are skipped.

Per valid query, with the true matches at 1-based ranks ``r_1 < ... < r_m``
among the kept items:

- AP = ``mean_j(j / r_j)``, the mean precision at each true match
  (cumulative-precision AP, as in torchreid and reid-strong-baseline);
- CMC rank-k hit = ``r_1 <= k``;
- INP = ``m / r_m``.

mAP, CMC rank-k and mINP are the means over valid queries, in percent.
"""
from typing import Dict, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ['query_rank_stats', 'evaluate_rank', 'evaluate_rank_from_features']

ArrayLike = Union[torch.Tensor, np.ndarray, Sequence]


def query_rank_stats(distmat: torch.Tensor, q_pids: torch.Tensor,
                     g_pids: torch.Tensor, q_camids: torch.Tensor,
                     g_camids: torch.Tensor) -> Dict[str, torch.Tensor]:
    """Per-query ranking statistics for a block of queries.

    Args:
        distmat (Tensor): ``(B, G)`` distances, smaller is closer.
        q_pids (Tensor): ``(B,)`` query identities.
        g_pids (Tensor): ``(G,)`` gallery identities.
        q_camids (Tensor): ``(B,)`` query cameras.
        g_camids (Tensor): ``(G,)`` gallery cameras.

    Returns:
        dict[str, Tensor]: ``(B,)`` tensors: ``num_matches`` (int64, true
        matches after junk removal), ``ap`` and ``inp`` (float64, 0 for
        queries without a match), ``first_match`` (int64 1-based rank of the
        first true match among kept items, 0 without a match).
    """
    num_queries = distmat.size(0)
    order = torch.sort(distmat, dim=1, stable=True).indices
    sorted_pids = g_pids[order]
    same_pid = sorted_pids == q_pids[:, None]
    junk = same_pid & (g_camids[order] == q_camids[:, None])
    del order, sorted_pids
    match = same_pid & ~junk
    # 1-based rank among kept items, and number of matches so far.
    kept_rank = (~junk).cumsum(dim=1, dtype=torch.int32)
    hits = match.cumsum(dim=1, dtype=torch.int32)

    rows, cols = match.nonzero(as_tuple=True)
    match_ranks = kept_rank[rows, cols].double()
    precision = hits[rows, cols].double() / match_ranks

    num_matches = match.sum(dim=1)
    ap = torch.zeros(num_queries, dtype=torch.float64, device=distmat.device)
    ap.index_add_(0, rows, precision)
    ap = ap / num_matches.clamp(min=1)
    # Matches are listed in increasing column order within a row, so the
    # first and last entries of each row are its easiest and hardest match.
    first_match = torch.zeros(
        num_queries, dtype=torch.int64, device=distmat.device)
    last_match = torch.ones(
        num_queries, dtype=torch.float64, device=distmat.device)
    valid = num_matches > 0
    starts = torch.cumsum(num_matches, dim=0) - num_matches
    first_match[valid] = match_ranks[starts[valid]].long()
    last_match[valid] = match_ranks[starts[valid] + num_matches[valid] - 1]
    inp = num_matches.double() / last_match
    return dict(
        num_matches=num_matches, ap=ap, inp=inp, first_match=first_match)


def _as_tensor(values: ArrayLike, dtype: torch.dtype) -> torch.Tensor:
    return torch.as_tensor(values).to(dtype)


def _summarise(stats: Dict[str, torch.Tensor],
               topk: Sequence[int]) -> Dict[str, Union[float, int]]:
    valid = stats['num_matches'] > 0
    num_valid = int(valid.sum())
    num_queries = int(valid.numel())
    if num_valid == 0:
        raise ValueError('no query has a true match in the gallery (after '
                         'removing same-identity same-camera items)')
    results = dict(mAP=100 * stats['ap'][valid].mean().item())
    first = stats['first_match'][valid]
    for k in topk:
        results[f'rank{k}'] = 100 * (first <= k).double().mean().item()
    results['mINP'] = 100 * stats['inp'][valid].mean().item()
    results['num_valid_queries'] = num_valid
    results['num_skipped_queries'] = num_queries - num_valid
    return results


def _collect(chunks: list) -> Dict[str, torch.Tensor]:
    if not chunks:
        raise ValueError('there are no queries to evaluate')
    return {
        key: torch.cat([c[key] for c in chunks]).cpu()
        for key in chunks[0]
    }


def evaluate_rank(distmat: ArrayLike,
                  q_pids: ArrayLike,
                  g_pids: ArrayLike,
                  q_camids: ArrayLike,
                  g_camids: ArrayLike,
                  topk: Sequence[int] = (1, 5, 10),
                  chunk_size: int = 256) -> Dict[str, Union[float, int]]:
    """mAP, CMC and mINP from a query-gallery distance matrix.

    Args:
        distmat (Tensor | np.ndarray): ``(Q, G)`` distances.
        q_pids, g_pids (array-like): ``(Q,)`` and ``(G,)`` identities.
        q_camids, g_camids (array-like): ``(Q,)`` and ``(G,)`` cameras.
        topk (Sequence[int]): CMC ranks to report. Defaults to (1, 5, 10).
        chunk_size (int): queries ranked at once. Defaults to 256.

    Returns:
        dict: ``mAP``, ``rank{k}`` for each ``k`` in ``topk`` and ``mINP`` in
        percent, plus ``num_valid_queries`` and ``num_skipped_queries``.

    Raises:
        ValueError: if no query has a true match.
    """
    distmat = torch.as_tensor(distmat)
    device = distmat.device
    q_pids, q_camids = (
        _as_tensor(x, torch.long).to(device) for x in (q_pids, q_camids))
    g_pids, g_camids = (
        _as_tensor(x, torch.long).to(device) for x in (g_pids, g_camids))
    chunks = [
        query_rank_stats(distmat[s:s + chunk_size], q_pids[s:s + chunk_size],
                         g_pids, q_camids[s:s + chunk_size], g_camids)
        for s in range(0, distmat.size(0), chunk_size)
    ]
    return _summarise(_collect(chunks), topk)


def evaluate_rank_from_features(q_feats: torch.Tensor,
                                g_feats: torch.Tensor,
                                q_pids: ArrayLike,
                                g_pids: ArrayLike,
                                q_camids: ArrayLike,
                                g_camids: ArrayLike,
                                topk: Sequence[int] = (1, 5, 10),
                                chunk_size: int = 256
                                ) -> Dict[str, Union[float, int]]:
    """mAP, CMC and mINP from query and gallery features.

    The features are L2-normalised and compared by squared Euclidean
    distance ``2 - 2 cos``, one ``(chunk_size, G)`` float32 block of queries
    at a time, so the full distance matrix never exists.

    Args:
        q_feats (Tensor): ``(Q, D)`` query features.
        g_feats (Tensor): ``(G, D)`` gallery features.
        q_pids, g_pids (array-like): ``(Q,)`` and ``(G,)`` identities.
        q_camids, g_camids (array-like): ``(Q,)`` and ``(G,)`` cameras.
        topk (Sequence[int]): CMC ranks to report. Defaults to (1, 5, 10).
        chunk_size (int): queries ranked at once. Defaults to 256.

    Returns:
        dict: as :func:`evaluate_rank`.

    Raises:
        ValueError: if no query has a true match.
    """
    q_feats = F.normalize(torch.as_tensor(q_feats).float(), dim=1)
    g_feats = F.normalize(torch.as_tensor(g_feats).float(), dim=1)
    device = q_feats.device
    q_pids, q_camids = (
        _as_tensor(x, torch.long).to(device) for x in (q_pids, q_camids))
    g_pids, g_camids = (
        _as_tensor(x, torch.long).to(device) for x in (g_pids, g_camids))
    chunks = []
    for s in range(0, q_feats.size(0), chunk_size):
        distmat = 2 - 2 * q_feats[s:s + chunk_size] @ g_feats.t()
        chunks.append(
            query_rank_stats(distmat, q_pids[s:s + chunk_size], g_pids,
                             q_camids[s:s + chunk_size], g_camids))
    return _summarise(_collect(chunks), topk)
