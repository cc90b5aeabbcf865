"""k-reciprocal neighbour sets and their expansion, on hand-made rankings."""
import numpy as np

from mmreid_unsup.ops import (expanded_k_reciprocal_neighbors,
                              k_reciprocal_neighbors)


def test_k_reciprocal_neighbors_width_follows_initial_rank():
    # 0 and 1 are mutual first neighbours; 2 lists 0 but 0 does not list 2.
    initial_rank = np.array([[0, 1], [1, 0], [2, 0]])
    full = k_reciprocal_neighbors(initial_rank, 2).toarray()
    assert full.tolist() == [[True, True, False], [True, True, False],
                             [False, False, True]]
    # k = 0 looks at the first column only: each sample alone.
    assert (k_reciprocal_neighbors(initial_rank,
                                   0).toarray() == np.eye(3,
                                                          dtype=bool)).all()


def test_expansion_needs_strictly_more_than_two_thirds():
    # k1 = 6: R(i, 6) looks at 6 columns, R(i, 3) at the first 4.
    initial_rank = np.array([
        [0, 1, 2, 3, 4, 5],
        [1, 0, 2, 7, 3, 4],
        [2, 1, 0, 3, 4, 5],
        [3, 0, 5, 6, 4, 2],
        [4, 3, 5, 6, 7, 2],
        [5, 4, 3, 6, 7, 1],
        [6, 7, 5, 4, 1, 2],
        [7, 1, 6, 5, 4, 3],
    ])
    full = k_reciprocal_neighbors(initial_rank, 6)
    half = k_reciprocal_neighbors(initial_rank, 3)
    # R(0, 6) = {0, 1, 2, 3}: rows 4 and 5 do not list 0.
    assert set(full[0].indices) == {0, 1, 2, 3}
    # R(1, 3) = {1, 0, 2, 7}: overlap 3 > 2/3 * 4, so 7 joins R*(0).
    assert set(half[1].indices) == {0, 1, 2, 7}
    # R(3, 3) = {3, 0, 5} (6 does not list 3 in its first 4): overlap
    # {0, 3} is exactly 2/3 * 3, not more, so 5 must stay out of R*(0).
    assert set(half[3].indices) == {0, 3, 5}
    expanded = expanded_k_reciprocal_neighbors(initial_rank, 6)
    assert set(expanded[0].indices) == {0, 1, 2, 3, 7}
