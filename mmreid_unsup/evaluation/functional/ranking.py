"""Re-ID ranking metrics: mAP, CMC and mINP with the standard junk rule.

For each query the gallery is sorted by increasing distance; equal distances
keep the gallery order (as a stable sort would). Gallery items with the
query's identity *and* camera are junk: they are removed before anything is
counted. Of the rest, items with the query's identity are true matches.
Queries without any true match are skipped.

Per valid query, with the true matches at 1-based ranks ``r_1 < ... < r_m``
among the kept items:

- AP = ``mean_j(j / r_j)``, the mean precision at each true match
  (cumulative-precision AP, as in torchreid and reid-strong-baseline);
- CMC rank-k hit = ``r_1 <= k``;
- INP = ``m / r_m``.

mAP, CMC rank-k and mINP are the means over valid queries, in percent.

**Single-gallery-shot CMC** (the classic CUHK03 protocol,
``single_gallery_shot=True``): in each of ``num_repeats`` draws every gallery
identity is represented by one of its kept images, and CMC is computed on
these representatives; the query's CMC is its mean over the draws. mAP and
mINP still use the whole gallery (as torchreid's ``eval_cuhk03`` does). A
draw gives every gallery image an independent uniform key; an identity's
representative is its kept image with the smallest key, which is a uniform
choice for each query (the keys, hence the draws, are shared by all queries).

How it is computed, exactly and without a dense ``(Q, G)`` matrix: queries
are processed in blocks of ``chunk_size``. Within a block each distance is
turned into a unique ``int64`` key, its float32 bit pattern (made monotone)
in the high 32 bits and the gallery index in the low 32 bits, so sorting
the keys orders the gallery by ``(distance, index)``, exactly the stable
order, and unique keys make any fast sort exact (numpy's SIMD sort on CPU,
``torch.sort`` elsewhere). The rank of each same-identity item is then one
binary search in its sorted row. Peak memory is about
``13 * chunk_size * G`` bytes, whatever ``Q``. Distances are compared in
float32: a float64 matrix is rounded to float32 first.
"""
from typing import Dict, Iterable, Optional, Sequence, Tuple, Union

import numpy as np
import torch

__all__ = [
    'query_rank_stats', 'evaluate_rank', 'evaluate_rank_from_features',
    'feature_distance_blocks'
]

ArrayLike = Union[torch.Tensor, np.ndarray, Sequence]
#: Padding of the per-row entry keys; larger than any real key (real keys
#: carry a finite float32's bits, whose top 32 bits are at most 0x7F800000).
_PAD_KEY = torch.iinfo(torch.int64).max


class _SingleShotDraws:
    """The gallery representatives of every single-gallery-shot draw.

    Args:
        g_pids (Tensor): ``(G,)`` gallery identities.
        num_repeats (int): number of draws.
        seed (int): seed of the draws.
    """

    def __init__(self, g_pids: torch.Tensor, num_repeats: int,
                 seed: int) -> None:
        if num_repeats < 1:
            raise ValueError(
                f'num_repeats must be >= 1, got {num_repeats}')
        pids = g_pids.cpu().numpy()
        rng = np.random.default_rng(seed)
        self.keys = rng.random((num_repeats, len(pids)))
        reps = []
        for keys in self.keys:
            order = np.lexsort((keys, pids))  # by pid, then by key
            first = np.r_[True, pids[order][1:] != pids[order][:-1]]
            reps.append(order[first])
        device = g_pids.device
        #: ``(T, P)`` gallery index of each identity's representative.
        self.reps = torch.from_numpy(np.stack(reps)).to(device)
        #: ``(P,)`` the identity each column of ``reps`` stands for.
        self.rep_pids = g_pids[self.reps[0]]
        self.keys = torch.from_numpy(self.keys).to(device)


def _distance_keys(distmat: torch.Tensor) -> torch.Tensor:
    """Unique ``int64`` keys ordered like ``(distance, gallery index)``.

    Args:
        distmat (Tensor): ``(B, G)`` distances.

    Returns:
        Tensor: ``(B, G)`` int64 keys.
    """
    dist = distmat.float()
    if bool(torch.isnan(dist).any()):
        raise ValueError('the distance matrix contains NaN')
    bits = dist.contiguous().view(torch.int32).long()
    # Sign-magnitude to two's complement: monotone in the float value, and
    # -0.0 and +0.0 get the same key.
    negative = bits < 0
    if bool(negative.any()):
        bits[negative] = -(bits[negative] & 0x7FFFFFFF)
    bits.bitwise_left_shift_(32)
    bits.bitwise_or_(
        torch.arange(dist.size(1), dtype=torch.int64, device=dist.device))
    return bits


def _sort_rows_(keys: torch.Tensor) -> torch.Tensor:
    """Sort each row of unique keys (in place on CPU)."""
    if keys.device.type == 'cpu':
        keys.numpy().sort(axis=1)
        return keys
    return torch.sort(keys, dim=1).values


def _block_stats(distmat: torch.Tensor,
                 q_pids: torch.Tensor,
                 g_pids: torch.Tensor,
                 q_camids: torch.Tensor,
                 g_camids: torch.Tensor,
                 single_shot: Optional[_SingleShotDraws] = None
                 ) -> Dict[str, torch.Tensor]:
    """Per-query statistics of one block of queries (see
    :func:`query_rank_stats`), plus ``single_shot_rank`` ``(B, T)`` when
    ``single_shot`` is given."""
    num_queries = distmat.size(0)
    device = distmat.device
    keys = _distance_keys(distmat)

    # Every same-identity gallery item of each query, left-aligned in a
    # (B, width) table padded with _PAD_KEY.
    same = g_pids[None, :] == q_pids[:, None]
    rows, cols = same.nonzero(as_tuple=True)
    del same
    counts = torch.bincount(rows, minlength=num_queries)
    width = max(int(counts.max()) if num_queries else 0, 1)
    slots = torch.arange(rows.numel(), device=device) - (
        torch.cumsum(counts, 0) - counts)[rows]
    entry_keys = torch.full((num_queries, width), _PAD_KEY, device=device)
    entry_keys[rows, slots] = keys[rows, cols]
    entry_junk = torch.zeros((num_queries, width),
                             dtype=torch.bool,
                             device=device)
    entry_junk[rows, slots] = g_camids[cols] == q_camids[rows]
    entry_index = torch.zeros((num_queries, width),
                              dtype=torch.long,
                              device=device)
    entry_index[rows, slots] = cols
    # Rank order within each row (keys are unique, padding last).
    entry_keys, perm = entry_keys.sort(dim=1)
    entry_junk = entry_junk.gather(1, perm)
    entry_index = entry_index.gather(1, perm)
    valid = torch.arange(width, device=device)[None, :] < counts[:, None]
    match = valid & ~entry_junk
    junk = valid & entry_junk

    single_shot_rank = None
    if single_shot is not None:
        single_shot_rank = _single_shot_ranks(keys, entry_keys, entry_index,
                                              match, q_pids, single_shot)

    positions = torch.searchsorted(_sort_rows_(keys), entry_keys)
    del keys
    junk_before = torch.cumsum(junk, 1) - junk.long()
    kept_rank = positions + 1 - junk_before
    hits = torch.cumsum(match, 1)
    num_matches = match.sum(1)
    precision = torch.where(match, hits.double() / kept_rank.double(),
                            torch.zeros((), dtype=torch.float64,
                                        device=device))
    ap = precision.sum(1) / num_matches.clamp(min=1)
    big = torch.iinfo(torch.int64).max
    first_match = torch.where(match, kept_rank,
                              torch.full_like(kept_rank, big)).min(1).values
    last_match = torch.where(match, kept_rank,
                             torch.zeros_like(kept_rank)).max(1).values
    has_match = num_matches > 0
    first_match = torch.where(has_match, first_match,
                              torch.zeros_like(first_match))
    inp = torch.where(has_match,
                      num_matches.double() / last_match.clamp(min=1).double(),
                      torch.zeros_like(ap))
    stats = dict(
        num_matches=num_matches, ap=ap, inp=inp, first_match=first_match)
    if single_shot_rank is not None:
        stats['single_shot_rank'] = single_shot_rank
    return stats


def _single_shot_ranks(keys: torch.Tensor, entry_keys: torch.Tensor,
                       entry_index: torch.Tensor, match: torch.Tensor,
                       q_pids: torch.Tensor,
                       draws: _SingleShotDraws) -> torch.Tensor:
    """``(B, T)`` rank of the query's own representative among all
    representatives, per draw (meaningless for queries without a match)."""
    # Own representative: the kept match with the smallest draw key.
    draw_keys = draws.keys[:, entry_index]  # (T, B, width)
    draw_keys = draw_keys.masked_fill(~match[None], float('inf'))
    own = draw_keys.argmin(dim=2).t()  # (B, T)
    own_keys = entry_keys.gather(1, own)
    other_pid = draws.rep_pids[None, :] != q_pids[:, None]  # (B, P)
    ranks = []
    for t in range(draws.reps.size(0)):
        rep_keys = keys[:, draws.reps[t]]
        closer = (rep_keys < own_keys[:, t:t + 1]) & other_pid
        ranks.append(closer.sum(1) + 1)
    return torch.stack(ranks, dim=1)


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
    return _block_stats(distmat, q_pids, g_pids, q_camids, g_camids)


def _as_long(values: ArrayLike, device: torch.device) -> torch.Tensor:
    return torch.as_tensor(np.asarray(values) if isinstance(
        values, (list, tuple)) else values).long().to(device)


def _summarise(stats: Dict[str, torch.Tensor],
               topk: Sequence[int]) -> Dict[str, Union[float, int]]:
    valid = stats['num_matches'] > 0
    num_valid = int(valid.sum())
    num_queries = int(valid.numel())
    if num_valid == 0:
        raise ValueError('no query has a true match in the gallery (after '
                         'removing same-identity same-camera items)')
    results = dict(mAP=100 * stats['ap'][valid].mean().item())
    if 'single_shot_rank' in stats:
        ranks = stats['single_shot_rank'][valid]
        for k in topk:
            results[f'rank{k}'] = 100 * (ranks <= k).double().mean().item()
    else:
        first = stats['first_match'][valid]
        for k in topk:
            results[f'rank{k}'] = 100 * (first <= k).double().mean().item()
    results['mINP'] = 100 * stats['inp'][valid].mean().item()
    results['num_valid_queries'] = num_valid
    results['num_skipped_queries'] = num_queries - num_valid
    return results


def _check_topk(topk: Sequence[int]) -> Tuple[int, ...]:
    topk = (topk, ) if isinstance(topk, int) else tuple(topk)
    if not topk or any(int(k) < 1 for k in topk):
        raise ValueError(f'topk must be positive ranks, got {topk}')
    return topk


def _evaluate_blocks(blocks: Iterable[Tuple[int, torch.Tensor]],
                     q_pids: ArrayLike, g_pids: ArrayLike,
                     q_camids: ArrayLike, g_camids: ArrayLike,
                     topk: Sequence[int], single_gallery_shot: bool,
                     num_repeats: int, seed: int,
                     device: torch.device) -> Dict[str, Union[float, int]]:
    """Rank every ``(start, (B, G) distances)`` block of queries and
    summarise."""
    topk = _check_topk(topk)
    q_pids, q_camids = _as_long(q_pids, device), _as_long(q_camids, device)
    g_pids, g_camids = _as_long(g_pids, device), _as_long(g_camids, device)
    if q_pids.shape != q_camids.shape or g_pids.shape != g_camids.shape:
        raise ValueError(
            'pids and camids must have one entry per image: got '
            f'q_pids {tuple(q_pids.shape)}, q_camids {tuple(q_camids.shape)}, '
            f'g_pids {tuple(g_pids.shape)}, g_camids {tuple(g_camids.shape)}')
    draws = (_SingleShotDraws(g_pids, num_repeats, seed)
             if single_gallery_shot else None)
    chunks = []
    for start, block in blocks:
        stop = start + block.size(0)
        if block.size(1) != g_pids.numel():
            raise ValueError(f'distances have {block.size(1)} gallery '
                             f'columns but there are {g_pids.numel()} '
                             'gallery pids')
        chunks.append(
            _block_stats(block.to(device), q_pids[start:stop], g_pids,
                         q_camids[start:stop], g_camids, draws))
    if not chunks:
        raise ValueError('there are no queries to evaluate')
    stats = {
        key: torch.cat([c[key] for c in chunks]).cpu()
        for key in chunks[0]
    }
    if stats['num_matches'].numel() != q_pids.numel():
        raise ValueError(f'distances cover {stats["num_matches"].numel()} '
                         f'queries but there are {q_pids.numel()} query pids')
    return _summarise(stats, topk)


def evaluate_rank(distmat: ArrayLike,
                  q_pids: ArrayLike,
                  g_pids: ArrayLike,
                  q_camids: ArrayLike,
                  g_camids: ArrayLike,
                  topk: Sequence[int] = (1, 5, 10),
                  chunk_size: int = 256,
                  single_gallery_shot: bool = False,
                  num_repeats: int = 10,
                  seed: int = 0) -> Dict[str, Union[float, int]]:
    """mAP, CMC and mINP from a query-gallery distance matrix.

    Args:
        distmat (Tensor | np.ndarray): ``(Q, G)`` distances.
        q_pids, g_pids (array-like): ``(Q,)`` and ``(G,)`` identities.
        q_camids, g_camids (array-like): ``(Q,)`` and ``(G,)`` cameras.
        topk (Sequence[int]): CMC ranks to report. Defaults to (1, 5, 10).
        chunk_size (int): queries ranked at once. Defaults to 256.
        single_gallery_shot (bool): CMC of the classic CUHK03 protocol (see
            the module docstring). Defaults to False.
        num_repeats (int): single-gallery-shot draws. Defaults to 10.
        seed (int): seed of the draws. Defaults to 0.

    Returns:
        dict: ``mAP``, ``rank{k}`` for each ``k`` in ``topk`` and ``mINP`` in
        percent, plus ``num_valid_queries`` and ``num_skipped_queries``.

    Raises:
        ValueError: if no query has a true match, or shapes disagree.
    """
    distmat = torch.as_tensor(distmat)
    if distmat.dim() != 2:
        raise ValueError('distmat must have shape (Q, G), got '
                         f'{tuple(distmat.shape)}')
    blocks = ((s, distmat[s:s + chunk_size])
              for s in range(0, distmat.size(0), chunk_size))
    return _evaluate_blocks(blocks, q_pids, g_pids, q_camids, g_camids, topk,
                            single_gallery_shot, num_repeats, seed,
                            distmat.device)


def feature_distance_blocks(q_feats: torch.Tensor,
                            g_feats: torch.Tensor,
                            chunk_size: int = 256
                            ) -> Iterable[Tuple[int, torch.Tensor]]:
    """Squared Euclidean distances of L2-normalised features, by blocks.

    The features are not copied: each block of cosines is the product of
    the raw features divided by their norms.

    Args:
        q_feats (Tensor): ``(Q, D)`` query features (normalised here).
        g_feats (Tensor): ``(G, D)`` gallery features (normalised here).
        chunk_size (int): queries per block. Defaults to 256.

    Yields:
        tuple[int, Tensor]: the first query of the block and its ``(B, G)``
        float32 distances ``2 - 2 cos``.
    """
    q_feats = torch.as_tensor(q_feats).float()
    g_feats = torch.as_tensor(g_feats).float()
    eps = 1e-12  # as F.normalize
    q_norms = q_feats.norm(dim=1).clamp_(min=eps)
    g_norms = g_feats.norm(dim=1).clamp_(min=eps)
    for start in range(0, q_feats.size(0), chunk_size):
        block = q_feats[start:start + chunk_size] @ g_feats.t()
        block /= q_norms[start:start + chunk_size, None]
        block /= g_norms[None, :]
        yield start, block.mul_(-2).add_(2)


def evaluate_rank_from_features(q_feats: torch.Tensor,
                                g_feats: torch.Tensor,
                                q_pids: ArrayLike,
                                g_pids: ArrayLike,
                                q_camids: ArrayLike,
                                g_camids: ArrayLike,
                                topk: Sequence[int] = (1, 5, 10),
                                chunk_size: int = 256,
                                rerank: Optional[dict] = None,
                                single_gallery_shot: bool = False,
                                num_repeats: int = 10,
                                seed: int = 0
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
        rerank (dict, optional): rank by the k-reciprocal re-ranked distance
            instead, with these arguments of
            :func:`~.reranking.k_reciprocal_rerank_blocks`
            (``k1``, ``k2``, ``lambda_value``, ``knn_backend``; ``{}`` for
            the defaults). Defaults to None (no re-ranking).
        single_gallery_shot (bool): CMC of the classic CUHK03 protocol.
            Defaults to False.
        num_repeats (int): single-gallery-shot draws. Defaults to 10.
        seed (int): seed of the draws. Defaults to 0.

    Returns:
        dict: as :func:`evaluate_rank`.

    Raises:
        ValueError: if no query has a true match.
    """
    q_feats = torch.as_tensor(q_feats)
    g_feats = torch.as_tensor(g_feats)
    if q_feats.dim() != 2 or g_feats.dim() != 2 or (q_feats.size(1) !=
                                                    g_feats.size(1)):
        raise ValueError('features must be (Q, D) and (G, D), got '
                         f'{tuple(q_feats.shape)} and {tuple(g_feats.shape)}')
    if rerank is not None:
        from .reranking import k_reciprocal_rerank_blocks
        blocks = k_reciprocal_rerank_blocks(
            q_feats, g_feats, chunk_size=chunk_size, **rerank)
    else:
        blocks = feature_distance_blocks(q_feats, g_feats, chunk_size)
    return _evaluate_blocks(blocks, q_pids, g_pids, q_camids, g_camids, topk,
                            single_gallery_shot, num_repeats, seed,
                            q_feats.device)
