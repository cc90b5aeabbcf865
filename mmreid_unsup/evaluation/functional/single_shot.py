"""Single-gallery-shot CMC, the classic CUHK03 protocol.

In each of ``num_repeats`` draws every gallery identity is represented by
one of its kept images, and the query's CMC is computed on these
representatives (its mean over the draws is the query's CMC). A draw gives
every gallery image an independent uniform key; an identity's
representative is its kept image with the smallest key, which is a uniform
choice for each query (the keys, hence the draws, are shared by all
queries). The representatives of other identities never depend on the
query; the query's own identity is represented by its kept match (same
identity, other camera) with the smallest key.
"""
import numpy as np
import torch

from .match_ranks import distance_keys

__all__ = ['SingleShotDraws', 'single_shot_ranks']

#: Padding of the per-row entry keys; larger than any real key (real keys
#: carry a finite float32's bits, whose top 32 bits are at most 0x7F800000).
_PAD_KEY = torch.iinfo(torch.int64).max


class SingleShotDraws:
    """The gallery representatives of every single-gallery-shot draw.

    Args:
        g_pids (Tensor): ``(G,)`` int64 gallery identities.
        num_repeats (int): number of draws.
        seed (int): seed of the draws.

    Raises:
        ValueError: if ``num_repeats`` is smaller than 1.
    """

    def __init__(self, g_pids: torch.Tensor, num_repeats: int,
                 seed: int) -> None:
        if num_repeats < 1:
            raise ValueError(
                f'num_repeats must be >= 1, got {num_repeats}')
        pids = g_pids.cpu().numpy()
        rng = np.random.default_rng(seed)
        keys = rng.random((num_repeats, len(pids)))
        reps = []
        for draw in keys:
            order = np.lexsort((draw, pids))  # by pid, then by key
            first = np.r_[True, pids[order][1:] != pids[order][:-1]]
            reps.append(order[first])
        device = g_pids.device
        #: ``(T, P)`` gallery index of each identity's representative.
        self.reps = torch.from_numpy(np.stack(reps)).to(device)
        #: ``(P,)`` the identity each column of ``reps`` stands for.
        self.rep_pids = g_pids[self.reps[0]]
        #: ``(T, G)`` float64 key of every gallery image in every draw.
        self.keys = torch.from_numpy(keys).to(device)


def single_shot_ranks(dist: torch.Tensor, rows: torch.Tensor,
                      cols: torch.Tensor, q_pids: torch.Tensor,
                      draws: SingleShotDraws) -> torch.Tensor:
    """Rank of each query's own representative among all representatives,
    in every draw.

    Args:
        dist (Tensor): ``(B, G)`` float32 distances of a block of queries.
        rows (Tensor): ``(N,)`` int64 query (row) of each true match.
        cols (Tensor): ``(N,)`` int64 gallery index of each true match.
        q_pids (Tensor): ``(B,)`` int64 query identities.
        draws (SingleShotDraws): the draws.

    Returns:
        Tensor: ``(B, T)`` int64 1-based ranks, by ``(distance, gallery
        index)`` like the full ranking; meaningless for queries without a
        true match.
    """
    num_queries = dist.size(0)
    device = dist.device
    # The true matches of each query, left-aligned in a (B, width) table
    # in the ranking order (padding last).
    counts = torch.bincount(rows, minlength=num_queries)
    width = max(int(counts.max()) if num_queries else 0, 1)
    slots = torch.arange(rows.numel(), device=device) - (
        torch.cumsum(counts, 0) - counts)[rows]
    entry_keys = torch.full((num_queries, width), _PAD_KEY, device=device)
    entry_keys[rows, slots] = distance_keys(dist[rows, cols], cols)
    entry_index = torch.zeros((num_queries, width),
                              dtype=torch.long,
                              device=device)
    entry_index[rows, slots] = cols
    entry_keys, perm = entry_keys.sort(dim=1)
    entry_index = entry_index.gather(1, perm)
    match = torch.arange(width, device=device)[None, :] < counts[:, None]

    # Own representative: the true match with the smallest draw key.
    draw_keys = draws.keys[:, entry_index]  # (T, B, width)
    draw_keys = draw_keys.masked_fill(~match[None], float('inf'))
    own = draw_keys.argmin(dim=2).t()  # (B, T)
    own_keys = entry_keys.gather(1, own)
    other_pid = draws.rep_pids[None, :] != q_pids[:, None]  # (B, P)
    ranks = []
    for t in range(draws.reps.size(0)):
        reps = draws.reps[t]
        rep_keys = distance_keys(dist[:, reps].contiguous(), reps)
        closer = (rep_keys < own_keys[:, t:t + 1]) & other_pid
        ranks.append(closer.sum(1) + 1)
    return torch.stack(ranks, dim=1)
