"""The encoding and the Jaccard graph split over 2 gloo ranks are
bit-identical to the single-process ones, with an odd number of samples
and with a rank that has no rows."""
import numpy as np
import pytest
import scipy.sparse as sp
from gloo_ranks import run_on_gloo_ranks
from jaccard_reference import clustered_features

from mmreid_unsup.ops import (k_reciprocal_encoding, knn_search,
                              local_query_expansion,
                              sparse_jaccard_from_encoding)
from mmreid_unsup.pseudo_labels.sharded_jaccard import (
    all_gather_csr_rows, sharded_jaccard_graph, sharded_k_reciprocal_encoding)

pytestmark = pytest.mark.dist

#: (name, features, k1, k2): 301 samples (odd), no query expansion, and a
#: single sample (rank 0 gets no row of the encoding).
CASES = [
    ('odd', lambda: clustered_features(43, 7, 64, 0.6, seed=0), 12, 4),
    ('k2_is_1', lambda: clustered_features(20, 10, 64, 0.6, seed=1), 9, 1),
    ('single_sample', lambda: clustered_features(1, 1, 64, 0.1, seed=2), 1,
     1),
]


def _same_csr(got, want):
    return (got is not None and got.shape == want.shape
            and all(
                np.array_equal(getattr(got, name), getattr(want, name))
                for name in ('indptr', 'indices', 'data'))
            and got.data.dtype == want.data.dtype)


def _worker(rank):
    verdicts = {}
    for name, make_features, k1, k2 in CASES:
        feats = make_features()
        dists, ranks = knn_search(feats, k1, backend='torch')
        dists, ranks = dists.numpy(), ranks.numpy()
        encoding = local_query_expansion(
            k_reciprocal_encoding(feats, ranks, k1, dists), ranks, k2)
        encoding.sort_indices()
        graph = sparse_jaccard_from_encoding(encoding, max_distance=0.6)

        split_encoding = sharded_k_reciprocal_encoding(
            feats, ranks, dists, k1, k2)
        split_graph = sharded_jaccard_graph(
            split_encoding, max_distance=0.6, max_triples=1 << 8)
        verdicts[name] = dict(
            encoding=_same_csr(split_encoding, encoding),
            graph=(_same_csr(split_graph, graph)
                   if rank == 0 else split_graph is None))
    # Blocks of different sizes, one of them empty, stack in rank order.
    block = sp.csr_matrix(np.full((rank * 2, 3), rank + 1.0))
    stacked = all_gather_csr_rows(block)
    verdicts['stacked'] = stacked.toarray().tolist()
    return verdicts


def test_split_encoding_and_graph_are_bit_identical():
    ranks = run_on_gloo_ranks(_worker)
    expected = {
        name: dict(encoding=True, graph=True)
        for name, _, _, _ in CASES
    }
    expected['stacked'] = [[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]
    assert ranks[0] == expected
    assert ranks[1] == expected
