"""Which rank computes what, when a labeler splits its work over ranks.

Every rank calls these functions with the same arguments and gets the same
answer, so the ranks agree on the split without talking. A share is a
contiguous block of rows (``slice``) or a list of work items; a rank whose
share is empty takes part in the collectives with nothing to add.
"""
from typing import List, Sequence

import numpy as np

__all__ = [
    'even_shares', 'weighted_shares', 'block_aligned_shares',
    'balanced_assignment'
]


def even_shares(num: int, num_shares: int) -> List[slice]:
    """Rows ``0 .. num - 1`` in ``num_shares`` contiguous blocks whose
    sizes differ by at most one.

    Args:
        num (int): number of rows.
        num_shares (int): number of blocks (ranks), at least 1.

    Returns:
        list[slice]: block ``r`` is rows ``num * r // num_shares`` to
        ``num * (r + 1) // num_shares``; blocks are empty when
        ``num < num_shares``.
    """
    bounds = [num * share // num_shares for share in range(num_shares + 1)]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


def weighted_shares(weights: np.ndarray, num_shares: int) -> List[slice]:
    """Rows in ``num_shares`` contiguous blocks of about equal total weight.

    Args:
        weights (np.ndarray): ``(N,)`` non-negative work of each row.
        num_shares (int): number of blocks (ranks), at least 1.

    Returns:
        list[slice]: contiguous blocks covering ``0 .. N - 1`` in order;
        block ``r`` starts at the first row where the cumulative weight
        reaches ``r / num_shares`` of the total. With no weight at all the
        rows are split evenly (:func:`even_shares`).
    """
    num = len(weights)
    cumulative = np.concatenate([[0.0], np.cumsum(weights, dtype=np.float64)])
    total = cumulative[-1]
    if not total > 0:
        return even_shares(num, num_shares)
    targets = total * np.arange(1, num_shares) / num_shares
    inner = np.searchsorted(cumulative, targets, side='left').tolist()
    bounds = [0] + [min(max(b, 0), num) for b in inner] + [num]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


def block_aligned_shares(num: int, block: int,
                         num_shares: int) -> List[slice]:
    """Rows in contiguous shares made of whole blocks of ``block`` rows.

    A last block shorter than ``block`` joins the one before it, so every
    non-empty share starts at a multiple of ``block`` and holds at least one
    full block (or all rows, when ``num < block``). A search that processes
    its queries in blocks of ``block`` rows then sees, in each share, the
    blocks it would see in the whole set.

    Args:
        num (int): number of rows.
        block (int): rows per block, at least 1.
        num_shares (int): number of shares (ranks), at least 1.

    Returns:
        list[slice]: shares covering ``0 .. num - 1`` in order; some are
        empty when there are fewer blocks than shares.
    """
    num_blocks = max(1, num // block)
    shares = []
    for blocks in even_shares(num_blocks, num_shares):
        start = blocks.start * block
        if blocks.stop == blocks.start:
            shares.append(slice(start, start))
        elif blocks.stop == num_blocks:  # with the short last block
            shares.append(slice(start, num))
        else:
            shares.append(slice(start, blocks.stop * block))
    return shares


def balanced_assignment(costs: Sequence[float],
                        num_shares: int) -> List[List[int]]:
    """Items to shares by longest processing time first.

    Items are taken from the most to the least costly (ties by index) and
    each goes to the share with the least cost so far (ties to the lower
    share), which keeps the largest share within 4/3 of the best possible.

    Args:
        costs (Sequence[float]): the cost of each item.
        num_shares (int): number of shares (ranks), at least 1.

    Returns:
        list[list[int]]: the items of each share, in increasing order.
    """
    loads = [0.0] * num_shares
    shares: List[List[int]] = [[] for _ in range(num_shares)]
    for item in sorted(range(len(costs)), key=lambda i: (-costs[i], i)):
        share = min(range(num_shares), key=lambda s: (loads[s], s))
        loads[share] += costs[item]
        shares[share].append(item)
    return [sorted(items) for items in shares]
