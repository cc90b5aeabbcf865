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
mINP still use the whole gallery (as torchreid's ``eval_cuhk03`` does). See
:mod:`.single_shot` for the draws.

How it is computed, exactly and without a dense ``(Q, G)`` matrix: queries
are processed in blocks of ``chunk_size``, and only the ranks of each
query's true matches are found, without sorting its row
(:func:`~.match_ranks.count_closer`: the items no farther than the query's
farthest matches are sorted as unique ``int64`` keys ordered like
``(distance, gallery index)``, and the farthest matches are counted on the
row). Only the same-identity items of each query are kept across blocks;
their order, junk and precision are computed once at the end. Peak memory
is about ``6 * chunk_size * G`` bytes (``12 *`` at worst, when true matches
rank last), whatever ``Q``. Distances are compared in float32: a float64
matrix is rounded to float32 first.
"""
from typing import Dict, Iterable, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from .match_ranks import IdentityGroups, count_closer
from .single_shot import SingleShotDraws, single_shot_ranks

__all__ = [
    'query_rank_stats', 'evaluate_rank', 'evaluate_rank_from_features',
    'feature_distance_blocks'
]

ArrayLike = Union[torch.Tensor, np.ndarray, Sequence]


def _check_no_nan(dist: torch.Tensor) -> None:
    """Raise ValueError if ``dist`` holds a NaN (on CPU with numpy's
    maximum, which propagates NaN, on one thread)."""
    if dist.numel() == 0:
        return
    if dist.device.type == 'cpu':
        has_nan = bool(np.isnan(dist.numpy().max()))
    else:
        has_nan = bool(torch.isnan(dist).any())
    if has_nan:
        raise ValueError('the distance matrix contains NaN')


def _segment_cumsum(flags: np.ndarray, seg_start: np.ndarray,
                    inclusive: bool) -> np.ndarray:
    """Cumulative count of ``flags`` within contiguous segments, given the
    index where each element's segment starts."""
    total = np.cumsum(flags, dtype=np.int64)
    before = total - flags
    return (total if inclusive else before) - before[seg_start]


def _match_stats(rows: np.ndarray, cols: np.ndarray, values: np.ndarray,
                 junk: np.ndarray, positions: np.ndarray,
                 num_queries: int) -> Dict[str, torch.Tensor]:
    """Per-query statistics from every same-identity gallery item.

    Args:
        rows (np.ndarray): ``(N,)`` query of each same-identity item.
        cols (np.ndarray): ``(N,)`` its gallery index.
        values (np.ndarray): ``(N,)`` float32 its distance to the query.
        junk (np.ndarray): ``(N,)`` bool, whether it is junk (same camera).
        positions (np.ndarray): ``(N,)`` for true matches, the number of
            gallery items before it in the query's ranking (any value for
            junk).
        num_queries (int): number of queries.

    Returns:
        dict[str, Tensor]: as :func:`query_rank_stats`.
    """
    # Each query's items in its ranking order: by distance, then index.
    order = np.lexsort((cols, values, rows))
    rows, junk, positions = rows[order], junk[order], positions[order]
    counts = np.bincount(rows, minlength=num_queries)
    seg_start = (np.cumsum(counts) - counts)[rows]
    match = ~junk
    # 1-based rank among the kept items, and matches so far.
    kept_rank = positions + 1 - _segment_cumsum(junk, seg_start, False)
    hits = _segment_cumsum(match, seg_start, True)
    rows, kept_rank, hits = rows[match], kept_rank[match], hits[match]
    num_matches = np.bincount(rows, minlength=num_queries)
    ap = np.bincount(
        rows, weights=hits / kept_rank, minlength=num_queries) / np.maximum(
            num_matches, 1)
    # The first and the last true match of each query.
    first_match = np.zeros(num_queries, dtype=np.int64)
    last_match = np.ones(num_queries, dtype=np.int64)
    if rows.size:
        first = np.flatnonzero(np.diff(rows, prepend=-1))
        last = np.append(first[1:], rows.size) - 1
        first_match[rows[first]] = kept_rank[first]
        last_match[rows[first]] = kept_rank[last]
    return dict(
        num_matches=torch.from_numpy(num_matches.astype(np.int64)),
        ap=torch.from_numpy(ap),
        inp=torch.from_numpy(num_matches / last_match),
        first_match=torch.from_numpy(first_match))


def _gather(dist: torch.Tensor, rows: np.ndarray,
            cols: np.ndarray) -> np.ndarray:
    """``dist[rows, cols]`` on the host (with numpy on CPU: a torch
    operation may wait for a busy second thread)."""
    if dist.device.type == 'cpu':
        return dist.numpy()[rows, cols]
    index = [torch.from_numpy(i).to(dist.device) for i in (rows, cols)]
    return dist[index[0], index[1]].cpu().numpy()


def _rank_blocks(blocks: Iterable[Tuple[int, torch.Tensor]],
                 q_pids: torch.Tensor, g_pids: torch.Tensor,
                 q_camids: torch.Tensor, g_camids: torch.Tensor,
                 single_shot: Optional[SingleShotDraws] = None
                 ) -> Dict[str, torch.Tensor]:
    """Per-query statistics (see :func:`query_rank_stats`) of queries whose
    distances come in ``(start, (B, G) block)`` pieces, in order, plus
    ``single_shot_rank`` ``(Q, T)`` when ``single_shot`` is given.

    Only the same-identity items of each query are kept across blocks, on
    the host; everything returned is on the CPU.
    """
    num_queries, num_gallery = q_pids.numel(), g_pids.numel()
    device = q_pids.device
    rows, cols, counts = IdentityGroups(g_pids).members(q_pids)
    junk = (g_camids[cols] == q_camids[rows]).cpu().numpy()
    rows, cols = rows.cpu().numpy(), cols.cpu().numpy()
    bounds = np.r_[0, np.cumsum(counts.cpu().numpy())]
    values = np.zeros(rows.size, dtype=np.float32)
    positions = np.zeros(rows.size, dtype=np.int64)
    single_shot_rank = []
    covered = 0
    for start, block in blocks:
        stop = start + block.size(0)
        if block.dim() != 2 or block.size(1) != num_gallery:
            raise ValueError(f'distances have {block.size(-1)} gallery '
                             f'columns but there are {num_gallery} '
                             'gallery pids')
        if start != covered or stop > num_queries:
            raise ValueError(f'distances cover {max(stop, covered)} '
                             f'queries but there are {num_queries} query '
                             'pids')
        covered = stop
        dist = block.detach().to(device).float().contiguous()
        _check_no_nan(dist)
        lo, hi = bounds[start], bounds[stop]
        block_rows, block_cols = rows[lo:hi] - start, cols[lo:hi]
        values[lo:hi] = _gather(dist, block_rows, block_cols)
        match = ~junk[lo:hi]
        match_rows = torch.from_numpy(block_rows[match]).to(device)
        match_cols = torch.from_numpy(block_cols[match]).to(device)
        positions[lo:hi][match] = count_closer(dist, match_rows,
                                               match_cols).cpu().numpy()
        if single_shot is not None:
            single_shot_rank.append(
                single_shot_ranks(dist, match_rows, match_cols,
                                  q_pids[start:stop], single_shot).cpu())
        del block, dist  # before the next block is computed
    if covered == 0:
        raise ValueError('there are no queries to evaluate')
    if covered != num_queries:
        raise ValueError(f'distances cover {covered} queries but there are '
                         f'{num_queries} query pids')
    stats = _match_stats(rows, cols, values, junk, positions, num_queries)
    if single_shot is not None:
        stats['single_shot_rank'] = torch.cat(single_shot_rank)
    return stats


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
        dict[str, Tensor]: ``(B,)`` CPU tensors: ``num_matches`` (int64,
        true matches after junk removal), ``ap`` and ``inp`` (float64, 0 for
        queries without a match), ``first_match`` (int64 1-based rank of the
        first true match among kept items, 0 without a match).

    Raises:
        ValueError: if the distances hold NaN or the shapes disagree.
    """
    distmat = torch.as_tensor(distmat)
    device = distmat.device
    return _rank_blocks([(0, distmat)], _as_long(q_pids, device),
                        _as_long(g_pids, device), _as_long(q_camids, device),
                        _as_long(g_camids, device))


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


def _check_chunk_size(chunk_size: int) -> None:
    """Raise ValueError unless ``chunk_size`` is at least 1."""
    if int(chunk_size) < 1:
        raise ValueError(f'chunk_size must be >= 1, got {chunk_size}')


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
    draws = (SingleShotDraws(g_pids, num_repeats, seed)
             if single_gallery_shot else None)
    stats = _rank_blocks(blocks, q_pids, g_pids, q_camids, g_camids, draws)
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
        ValueError: if no query has a true match, the shapes disagree, the
            distances hold NaN or ``chunk_size`` is smaller than 1.
    """
    _check_chunk_size(chunk_size)
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
                            chunk_size: int = 256,
                            reuse: bool = False
                            ) -> Iterable[Tuple[int, torch.Tensor]]:
    """Squared Euclidean distances of L2-normalised features, by blocks.

    The features are not copied: each block is the product of the query
    features scaled by ``-2 / |q|`` with the raw gallery features, then
    scaled by ``1 / |g|`` and shifted by 2 in one pass.

    Args:
        q_feats (Tensor): ``(Q, D)`` query features (normalised here).
        g_feats (Tensor): ``(G, D)`` gallery features (normalised here).
        chunk_size (int): queries per block. Defaults to 256.
        reuse (bool): write every block into the same buffer, which spares
            the memory system a fresh ``(chunk_size, G)`` tensor per block
            (about 10 % of the time on CPU); a block is then overwritten by
            the next one, so use each before asking for the next. Defaults
            to False.

    Raises:
        ValueError: if ``chunk_size`` is smaller than 1.

    Yields:
        tuple[int, Tensor]: the first query of the block and its ``(B, G)``
        float32 distances ``2 - 2 cos``.
    """
    _check_chunk_size(chunk_size)
    q_feats = torch.as_tensor(q_feats).float()
    g_feats = torch.as_tensor(g_feats).float()
    eps = 1e-12  # as F.normalize
    q_norms = q_feats.norm(dim=1).clamp_(min=eps)
    g_norms = g_feats.norm(dim=1).clamp_(min=eps)
    # -2 / |q| scales the query rows before the product and 1 / |g| the
    # columns after it, in the pass that adds 2.
    q_scales = q_norms.reciprocal_().mul_(-2)[:, None]
    g_scales = g_norms.reciprocal_()[None, :]
    two = torch.tensor(2, dtype=torch.float32, device=g_feats.device)
    buffer = None
    for start in range(0, q_feats.size(0), chunk_size):
        scaled = (q_feats[start:start + chunk_size] *
                  q_scales[start:start + chunk_size])
        if reuse:
            if buffer is None:
                buffer = g_feats.new_empty(
                    (min(chunk_size, q_feats.size(0)), g_feats.size(0)))
            block = torch.mm(
                scaled, g_feats.t(), out=buffer[:scaled.size(0)])
        else:
            block = scaled @ g_feats.t()
        del scaled
        yield start, torch.addcmul(two, block, g_scales, out=block)
        del block  # before the next block is computed


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
            :func:`~mmreid_unsup.ops.reranking.k_reciprocal_rerank_blocks`
            (``k1``, ``k2``, ``lambda_value``, ``knn_backend``; ``{}`` for
            the defaults). Defaults to None (no re-ranking).
        single_gallery_shot (bool): CMC of the classic CUHK03 protocol.
            Defaults to False.
        num_repeats (int): single-gallery-shot draws. Defaults to 10.
        seed (int): seed of the draws. Defaults to 0.

    Returns:
        dict: as :func:`evaluate_rank`.

    Raises:
        ValueError: if no query has a true match, the shapes disagree or
            ``chunk_size`` is smaller than 1.
    """
    _check_chunk_size(chunk_size)
    q_feats = torch.as_tensor(q_feats)
    g_feats = torch.as_tensor(g_feats)
    if q_feats.dim() != 2 or g_feats.dim() != 2 or (q_feats.size(1) !=
                                                    g_feats.size(1)):
        raise ValueError('features must be (Q, D) and (G, D), got '
                         f'{tuple(q_feats.shape)} and {tuple(g_feats.shape)}')
    if rerank is not None:
        from mmreid_unsup.ops.reranking import k_reciprocal_rerank_blocks
        blocks = k_reciprocal_rerank_blocks(
            q_feats, g_feats, chunk_size=chunk_size, **rerank)
    else:
        # Each block is done with before the next: one buffer for all.
        blocks = feature_distance_blocks(
            q_feats, g_feats, chunk_size, reuse=True)
    return _evaluate_blocks(blocks, q_pids, g_pids, q_camids, g_camids, topk,
                            single_gallery_shot, num_repeats, seed,
                            q_feats.device)
