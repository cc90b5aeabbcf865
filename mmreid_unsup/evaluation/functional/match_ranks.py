"""Where given gallery items rank in their query's row, without sorting rows.

mAP, CMC and mINP (:mod:`.ranking`) only need the rank of each true match
of a query in its gallery order: increasing distance, equal distances in
gallery order (what a stable sort gives). That rank is one plus the number
of gallery items ordered before the match, and only items no farther than
the query's farthest match can be. So instead of sorting each ``(B, G)``
row of distances, :func:`count_closer`:

1. takes the *candidates* of each row, the items no farther than the
   farthest item to rank in it (one comparison pass over the block);
2. gives every candidate a unique ``int64`` key that orders the block by
   ``(row, distance, gallery index)``: the row in the high bits, then the
   distance's float32 bit pattern made monotone (``-0.0`` and ``+0.0``
   alike), then the gallery index; and sorts the keys of the whole block
   at once (numpy's SIMD sort on CPU, ``torch.sort`` elsewhere);
3. finds each item's own key by binary search: its position, less the
   position of its row's first key, is the number of items before it.

The keys are unique, so the counts are exact, ties included: they are the
positions a stable sort of the row would give. A good model puts a query's
matches near the top, hence few candidates; the worst case (a match last in
its row) sorts the whole row. On CPU the two farthest items of each row,
which would bring most of the candidates, are counted on their row instead
(the closer items, and the equally close ones on their left), and the
candidates are those no farther than the third farthest.
"""
from typing import Callable, Iterator, Tuple

import numpy as np
import torch

__all__ = [
    'IdentityGroups', 'ordered_bits', 'distance_keys', 'count_closer'
]

#: ``ordered_bits`` values lie in ``[-_HALF, _HALF)``.
_HALF = 1 << 31
#: On CPU, the farthest items of each row counted directly on the row
#: rather than among the sorted candidates.
_DIRECT = 2


def ordered_bits(values: torch.Tensor) -> torch.Tensor:
    """Integers ordered like float32 values.

    Args:
        values (Tensor): float32 values without NaN.

    Returns:
        Tensor: int64 of the same shape, in ``[-2**31, 2**31)``, increasing
        with the value; ``-0.0`` and ``+0.0`` get the same integer.

    Raises:
        ValueError: if ``values`` is not float32.
    """
    if values.dtype != torch.float32:
        raise ValueError(f'values must be float32, got {values.dtype}')
    return _twos_complement(values.contiguous().view(torch.int32).long())


def _twos_complement(bits):
    """Turn int64 float32 bit patterns (sign-magnitude) into integers
    ordered like the floats, in place; ``bits`` is a tensor or an array."""
    negative = bits < 0
    if negative.any():
        bits[negative] = -(bits[negative] & 0x7FFFFFFF)
    return bits


def distance_keys(values: torch.Tensor,
                  indices: torch.Tensor) -> torch.Tensor:
    """Unique ``int64`` keys ordered like ``(distance, gallery index)``.

    Args:
        values (Tensor): float32 distances without NaN.
        indices (Tensor): int64 gallery index of each distance, in
            ``[0, 2**32)``, broadcastable to ``values``.

    Returns:
        Tensor: int64 keys, the shape of ``values``.
    """
    return ordered_bits(values).bitwise_left_shift_(32).bitwise_or_(indices)


class IdentityGroups:
    """The gallery's indices grouped by identity, to list the gallery items
    of each query's identity without a ``(B, G)`` comparison.

    The identities are small: the grouping runs with numpy on the host
    (torch's parallel sort waits for a busy second thread), and the
    results go to the device of the query identities.

    Args:
        g_pids (Tensor): ``(G,)`` int64 gallery identities.

    Raises:
        ValueError: if ``g_pids`` is not 1-D.
    """

    def __init__(self, g_pids: torch.Tensor) -> None:
        if g_pids.dim() != 1:
            raise ValueError('g_pids must have shape (G,), got '
                             f'{tuple(g_pids.shape)}')
        pids = g_pids.cpu().numpy()
        #: Gallery indices by identity, increasing within an identity.
        self.order = np.argsort(pids, kind='stable')
        self.pids, self.starts, self.sizes = np.unique(
            pids[self.order], return_index=True, return_counts=True)

    def members(
        self, q_pids: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Every gallery item of the identity of each query.

        Args:
            q_pids (Tensor): ``(B,)`` int64 query identities.

        Returns:
            tuple[Tensor, Tensor, Tensor]: ``rows`` and ``cols``, the query
            and the gallery index of each same-identity pair (by query,
            then by gallery index), and ``counts`` ``(B,)``, the pairs of
            each query; int64, on the device of ``q_pids``.
        """
        queries = q_pids.cpu().numpy()
        counts = np.zeros(queries.size, dtype=np.int64)
        group = np.searchsorted(self.pids, queries)
        if self.pids.size:
            group = np.minimum(group, self.pids.size - 1)
            found = self.pids[group] == queries
            counts[found] = self.sizes[group[found]]
        rows = np.repeat(np.arange(queries.size), counts)
        offsets = np.arange(rows.size) - (np.cumsum(counts) - counts)[rows]
        cols = self.order[self.starts[group[rows]] + offsets]
        return tuple(
            torch.from_numpy(x.astype(np.int64)).to(q_pids.device)
            for x in (rows, cols, counts))


def _row_groups(total: int, row_counts: Callable[[], np.ndarray],
                num_rows: int, budget: int,
                max_rows: int) -> Iterator[Tuple[int, int]]:
    """``[start, stop)`` runs of at most ``max_rows`` rows with at most
    ``budget`` candidates in all (or a single row), given the ``total``
    number of candidates and a function giving each row's."""
    if total <= budget and num_rows <= max_rows:
        yield 0, num_rows
        return
    cumulative = np.cumsum(row_counts())
    start = 0
    while start < num_rows:
        before = int(cumulative[start - 1]) if start else 0
        stop = int(
            np.searchsorted(cumulative, before + budget, side='right'))
        stop = min(max(stop, start + 1), start + max_rows, num_rows)
        yield start, stop
        start = stop


def _ordered_bits_numpy(values: np.ndarray) -> np.ndarray:
    """:func:`ordered_bits` of a float32 numpy array."""
    return _twos_complement(values.view(np.int32).astype(np.int64))


def _count_directly(dist: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                    values: np.ndarray) -> np.ndarray:
    """Count the items before each item on its whole row: the closer ones,
    and the equally close ones on its left."""
    out = np.empty(rows.size, dtype=np.int64)
    for i, (row, col, value) in enumerate(zip(rows, cols, values)):
        line = dist[row]
        out[i] = np.count_nonzero(line[:col] <= value) + np.count_nonzero(
            line[col + 1:] < value)
    return out


def _count_closer_numpy(dist: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                        budget: int) -> np.ndarray:
    """:func:`count_closer` on CPU with numpy, whose operations run on one
    thread (no waiting for a second thread on a busy machine), and whose
    compaction and SIMD sort are the faster ones.

    The ``_DIRECT`` farthest items of each row, which would bring the most
    candidates, are counted directly on their row instead (one comparison
    pass each).
    """
    num_rows, num_cols = dist.shape
    values = dist[rows, cols]
    out = np.zeros(rows.size, dtype=np.int64)
    # Items by row, then by (distance, index); their place from the end.
    order = np.lexsort((cols, values, rows))
    ends = np.cumsum(np.bincount(rows, minlength=num_rows))
    from_end = ends[rows[order]] - 1 - np.arange(rows.size)
    direct = order[from_end < _DIRECT]
    out[direct] = _count_directly(dist, rows[direct], cols[direct],
                                  values[direct])
    rest = order[from_end >= _DIRECT]
    if rest.size == 0:
        return out
    rows, cols, values = rows[rest], cols[rest], values[rest]
    farthest = np.full(num_rows, np.nan, dtype=np.float32)
    np.fmax.at(farthest, rows, values)
    candidates = dist <= farthest[:, None]  # NaN selects nothing
    col_bits = max(num_cols - 1, 1).bit_length()
    row_shift = 32 + col_bits
    for start, stop in _row_groups(
            int(np.count_nonzero(candidates)),
            lambda: np.count_nonzero(candidates, axis=1), num_rows, budget,
            1 << (31 - col_bits)):
        part = np.flatnonzero((rows >= start) & (rows < stop))
        if part.size == 0:
            continue
        flat = np.flatnonzero(candidates[start:stop])
        keys = _ordered_bits_numpy(dist[start:stop].reshape(-1).take(flat))
        keys += _HALF
        keys <<= col_bits
        local = flat // num_cols
        flat -= local * num_cols  # the gallery index
        keys += flat
        del flat
        local <<= row_shift
        keys += local
        del local
        keys.sort()
        local = (rows[part] - start) << row_shift
        item_keys = _ordered_bits_numpy(values[part]) + _HALF
        item_keys <<= col_bits
        item_keys += cols[part] + local
        out[rest[part]] = np.searchsorted(keys, item_keys) - np.searchsorted(
            keys, local)
    return out


def _count_closer_torch(dist: torch.Tensor, rows: torch.Tensor,
                        cols: torch.Tensor, budget: int) -> torch.Tensor:
    """:func:`count_closer` with torch operations, on any device."""
    num_rows, num_cols = dist.shape
    device = dist.device
    values = dist[rows, cols]
    farthest = torch.full((num_rows, ),
                          float('nan'),
                          dtype=dist.dtype,
                          device=device)
    farthest.scatter_reduce_(0, rows, values, 'amax', include_self=False)
    candidates = dist <= farthest[:, None]  # NaN selects nothing
    col_bits = max(num_cols - 1, 1).bit_length()
    row_shift = 32 + col_bits
    out = torch.zeros(rows.numel(), dtype=torch.long, device=device)
    for start, stop in _row_groups(
            int(candidates.sum()), lambda: candidates.sum(1).cpu().numpy(),
            num_rows, budget, 1 << (31 - col_bits)):
        part = ((rows >= start) & (rows < stop)).nonzero().squeeze(1)
        if part.numel() == 0:
            continue
        flat = candidates[start:stop].reshape(-1).nonzero().squeeze(1)
        keys = ordered_bits(dist[start:stop].reshape(-1).take(flat))
        keys.add_(_HALF).bitwise_left_shift_(col_bits)
        local = torch.div(flat, num_cols, rounding_mode='floor')
        keys += flat.sub_(local, alpha=num_cols)  # the gallery index
        del flat
        keys += local.bitwise_left_shift_(row_shift)
        del local
        keys = torch.sort(keys).values
        local = (rows[part] - start).bitwise_left_shift_(row_shift)
        item_keys = ordered_bits(values[part]).add_(_HALF)
        item_keys.bitwise_left_shift_(col_bits).add_(cols[part] + local)
        out[part] = torch.searchsorted(keys, item_keys) - torch.searchsorted(
            keys, local)
    return out


def count_closer(dist: torch.Tensor,
                 rows: torch.Tensor,
                 cols: torch.Tensor,
                 budget: int = 0) -> torch.Tensor:
    """How many items of its row come before each given item.

    The order of a row is the stable sort of its distances: increasing
    distance, equal distances by increasing gallery index.

    Args:
        dist (Tensor): ``(B, G)`` float32 distances without NaN.
        rows (Tensor): ``(N,)`` int64 row of each item to place.
        cols (Tensor): ``(N,)`` int64 gallery index of each item.
        budget (int): at most this many candidates are sorted at once
            (unless a single row has more); each costs about 28 bytes
            besides ``dist`` and a ``(B, G)`` boolean mask. 0 (the default)
            means ``B * G / 4``.

    Returns:
        Tensor: ``(N,)`` int64 on the device of ``dist``, the number of
        items of row ``rows[i]`` ordered before item ``cols[i]``.

    Raises:
        ValueError: if ``dist`` is not a 2-D float32 tensor, or ``rows``
            and ``cols`` are not 1-D tensors of the same shape.
    """
    if dist.dim() != 2 or dist.dtype != torch.float32:
        raise ValueError('dist must be a (B, G) float32 tensor, got '
                         f'{dist.dtype} {tuple(dist.shape)}')
    if rows.dim() != 1 or rows.shape != cols.shape:
        raise ValueError('rows and cols must be (N,) tensors of the same '
                         f'shape, got {tuple(rows.shape)} and '
                         f'{tuple(cols.shape)}')
    if rows.numel() == 0:
        return torch.zeros(0, dtype=torch.long, device=dist.device)
    dist = dist.detach().contiguous()
    rows, cols = rows.to(dist.device).long(), cols.to(dist.device).long()
    budget = budget if budget >= 1 else max(dist.numel() // 4, 1)
    if dist.device.type == 'cpu':
        return torch.from_numpy(
            _count_closer_numpy(dist.numpy(), rows.numpy(), cols.numpy(),
                                budget))
    return _count_closer_torch(dist, rows, cols, budget)
