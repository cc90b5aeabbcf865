"""Shares of work agree across ranks, cover every row once and balance."""
import numpy as np
import pytest

from mmreid_unsup.pseudo_labels.rank_shares import (balanced_assignment,
                                                    block_aligned_shares,
                                                    even_shares,
                                                    weighted_shares)


def _rows(shares):
    return [list(range(s.start, s.stop)) for s in shares]


def _covers_in_order(shares, num):
    return sum(_rows(shares), []) == list(range(num))


@pytest.mark.parametrize('num, parts', [(10, 3), (7, 2), (1, 2), (0, 3),
                                        (5, 5)])
def test_even_shares_differ_by_at_most_one_row(num, parts):
    shares = even_shares(num, parts)
    assert len(shares) == parts and _covers_in_order(shares, num)
    sizes = [s.stop - s.start for s in shares]
    assert max(sizes) - min(sizes) <= 1


def test_weighted_shares_balance_the_weight():
    # Row i enumerates pairs with the rows after it: early rows weigh more.
    weights = np.arange(100, 0, -1, dtype=float)
    shares = weighted_shares(weights, 2)
    assert _covers_in_order(shares, 100)
    halves = [weights[s].sum() for s in shares]
    assert abs(halves[0] - halves[1]) <= weights.max()
    assert shares[0].stop < 50  # fewer, heavier rows first
    # No weight at all: an even split.
    assert weighted_shares(np.zeros(5), 2) == even_shares(5, 2)
    # One heavy row: the other share may be empty, the rows still covered.
    shares = weighted_shares(np.array([0.0, 10.0, 0.0]), 3)
    assert _covers_in_order(shares, 3)


@pytest.mark.parametrize(
    'num, parts, expected',
    [
        (9000, 2, [(0, 4096), (4096, 9000)]),  # the short block joins
        (9000, 3, [(0, 0), (0, 4096), (4096, 9000)]),
        (300, 2, [(0, 0), (0, 300)]),  # one block: one rank searches
        (8192, 2, [(0, 4096), (4096, 8192)]),
    ])
def test_block_aligned_shares_hold_whole_blocks(num, parts, expected):
    shares = block_aligned_shares(num, 4096, parts)
    assert [(s.start, s.stop) for s in shares] == expected
    assert _covers_in_order(shares, num)


def test_balanced_assignment_gives_each_item_once_largest_first():
    costs = [5, 1, 4, 4, 2, 3]
    shares = balanced_assignment(costs, 2)
    assert sorted(sum(shares, [])) == list(range(len(costs)))
    loads = [sum(costs[i] for i in share) for share in shares]
    assert loads == [10, 9]
    # More shares than items: some are empty.
    assert balanced_assignment([1.0], 3) == [[0], [], []]
