"""k-reciprocal neighbour sets and their expansion, on hand-made rankings;
blocks of rows equal the whole set's rows."""
import numpy as np
import pytest
import scipy.sparse as sp
from jaccard_reference import noisy_blobs

from mmreid_unsup.ops import (expanded_k_reciprocal_neighbors,
                              k_reciprocal_encoding, k_reciprocal_neighbors,
                              knn_search, local_query_expansion)
from mmreid_unsup.ops.k_reciprocal import row_range


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


# -- blocks of rows -----------------------------------------------------------

#: Uneven blocks of the 157 samples below, with an empty one.
BLOCKS = [slice(0, 50), slice(50, 50), slice(50, 151), slice(151, 157)]


def _knn_lists(k1=12):
    feats = noisy_blobs(seed=3)[:157]
    dists, ranks = knn_search(feats, k1, backend='torch')
    return feats, dists.numpy(), ranks.numpy()


def _stacked(blocks):
    return sp.vstack(blocks, format='csr')


def _assert_same_csr(stacked, whole):
    assert stacked.shape == whole.shape
    np.testing.assert_array_equal(stacked.indptr, whole.indptr)
    np.testing.assert_array_equal(stacked.indices, whole.indices)
    np.testing.assert_array_equal(stacked.data, whole.data)


@pytest.mark.parametrize('k', [6, 12])
def test_blocks_of_reciprocal_sets_stack_to_the_whole(k):
    _, _, ranks = _knn_lists()
    whole = k_reciprocal_neighbors(ranks, k)
    blocks = [k_reciprocal_neighbors(ranks, k, rows) for rows in BLOCKS]
    assert [b.shape for b in blocks] == [(50, 157), (0, 157), (101, 157),
                                         (6, 157)]
    _assert_same_csr(_stacked(blocks), whole)
    _assert_same_csr(
        _stacked([expanded_k_reciprocal_neighbors(ranks, k, r)
                  for r in BLOCKS]), expanded_k_reciprocal_neighbors(ranks, k))


@pytest.mark.parametrize('reuse_dists', [False, True])
@pytest.mark.parametrize('k2', [1, 5])
def test_blocks_of_the_encoding_are_bit_identical_to_the_whole(
        reuse_dists, k2):
    feats, dists, ranks = _knn_lists()
    dists = dists if reuse_dists else None
    whole = k_reciprocal_encoding(feats, ranks, 12, dists)
    blocks = [k_reciprocal_encoding(feats, ranks, 12, dists, r)
              for r in BLOCKS]
    _assert_same_csr(_stacked(blocks), whole)

    expanded = local_query_expansion(whole, ranks, k2)
    expanded_blocks = [
        local_query_expansion(whole, ranks, k2, r) for r in BLOCKS
    ]
    _assert_same_csr(_stacked(expanded_blocks), expanded)


def test_row_range_refuses_a_step():
    assert row_range(None, 7) == (0, 7)
    assert row_range(slice(3, 100), 7) == (3, 7)
    assert row_range(slice(5, 2), 7) == (5, 5)
    with pytest.raises(ValueError, match='contiguous'):
        row_range(slice(0, 7, 2), 7)
