"""The sparse, chunked Jaccard graph equals the dense references."""
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from jaccard_reference import (brute_force_jaccard, clustered_features,
                               dense_jaccard, noisy_blobs)
from sklearn.cluster import DBSCAN

from mmreid_unsup.ops import (compute_jaccard_distance,
                              compute_sparse_jaccard_distance,
                              is_faiss_available, k_reciprocal_encoding,
                              knn_search, local_query_expansion,
                              sparse_jaccard_from_encoding)
from mmreid_unsup.ops.sparse_jaccard import (JaccardPairs,
                                             symmetric_jaccard_graph)

BACKENDS = ['torch'] + (['faiss'] if is_faiss_available() else [])


def to_dense(graph: sp.csr_matrix) -> np.ndarray:
    """Absent pairs are at distance 1."""
    coo = graph.tocoo()
    dense = np.ones(graph.shape)
    dense[coo.row, coo.col] = coo.data
    return dense


def dbscan(dist, eps: float) -> np.ndarray:
    return DBSCAN(
        eps=eps, min_samples=4, metric='precomputed').fit_predict(dist)


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize(
    'case',
    [
        # (num_clusters, per_cluster, dim, spread, k1, k2, seed)
        (6, 12, 8, 0.35, 20, 6, 0),
        (10, 9, 8, 0.3, 11, 1, 2),  # round(5.5) = 6, no query expansion
        (3, 20, 4, 0.8, 7, 7, 4),  # k2 = k1
    ])
def test_matches_brute_force(case, backend):
    num_clusters, per_cluster, dim, spread, k1, k2, seed = case
    feats = clustered_features(num_clusters, per_cluster, dim, spread, seed)
    expected = brute_force_jaccard(feats.double().numpy().tolist(), k1, k2)

    graph = compute_sparse_jaccard_distance(
        feats, k1=k1, k2=k2, backend=backend, max_triples=97)

    assert sp.isspmatrix_csr(graph) and graph.dtype == np.float32
    np.testing.assert_allclose(to_dense(graph), expected, atol=1e-5, rtol=0)
    # Exactly the pairs closer than 1 are stored.
    coo = graph.tocoo()
    stored = np.zeros(graph.shape, dtype=bool)
    stored[coo.row, coo.col] = True
    np.testing.assert_array_equal(stored, expected < 1 - 1e-9)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_matches_dense_reference_and_dbscan_labels(seed):
    # Cluster-Contrast's k1 / k2 on blobs of varied tightness: clusters,
    # border points and noise all occur.
    feats = noisy_blobs(100 + seed)
    expected = dense_jaccard(feats, k1=30, k2=6)

    graph = compute_sparse_jaccard_distance(feats, k1=30, k2=6)
    np.testing.assert_allclose(to_dense(graph), expected, atol=1e-5, rtol=0)
    np.testing.assert_allclose(
        compute_jaccard_distance(feats, k1=30, k2=6), expected, atol=1e-5)

    for eps in (0.4, 0.5, 0.6):
        reference = dbscan(expected, eps)
        # Not a vacuous comparison: several clusters and some noise.
        assert reference.max() >= 5 and (reference == -1).sum() >= 3
        np.testing.assert_array_equal(dbscan(graph, eps), reference)
        pruned = compute_sparse_jaccard_distance(
            feats, k1=30, k2=6, max_distance=eps)
        np.testing.assert_array_equal(dbscan(pruned, eps), reference)


def encoding_of(feats: torch.Tensor, k1: int = 20, k2: int = 6):
    dists, ranks = knn_search(feats, k1)
    ranks = ranks.numpy()
    encoding = k_reciprocal_encoding(feats, ranks, k1)
    return local_query_expansion(encoding, ranks, k2), dists.numpy(), ranks


def test_chunk_size_does_not_change_the_graph():
    encoding, _, _ = encoding_of(clustered_features(8, 15, 16, 0.4, seed=5))
    whole = sparse_jaccard_from_encoding(encoding)
    for max_triples in (1, 50, 1000):
        chunked = sparse_jaccard_from_encoding(
            encoding, max_triples=max_triples)
        assert (whole != chunked).nnz == 0
        np.testing.assert_array_equal(whole.indices, chunked.indices)


def test_graph_is_symmetric_canonical_with_zero_diagonal():
    encoding, _, _ = encoding_of(clustered_features(8, 15, 16, 0.4, seed=6))
    graph = sparse_jaccard_from_encoding(encoding)
    assert graph.has_canonical_format
    assert abs(graph - graph.T).max() == 0
    assert (graph.diagonal() == 0).all()
    # The zero diagonal is stored explicitly (DBSCAN counts a point as its
    # own neighbour only if it is).
    coo = graph.tocoo()
    assert ((coo.row == coo.col) & (coo.data == 0)).sum() == graph.shape[0]
    assert graph.data.min() >= 0 and graph.data.max() < 1


def test_max_distance_drops_far_pairs_only():
    encoding, _, _ = encoding_of(clustered_features(8, 15, 16, 0.4, seed=7))
    full = sparse_jaccard_from_encoding(encoding)
    pruned = sparse_jaccard_from_encoding(encoding, max_distance=0.5)
    assert 0 < pruned.nnz < full.nnz
    full_dense, pruned_dense = to_dense(full), to_dense(pruned)
    near = full_dense <= 0.5
    np.testing.assert_array_equal(pruned_dense[near], full_dense[near])
    assert (pruned_dense[~near] == 1).all()


def test_identical_rows_are_stored_as_explicit_zeros():
    # Rows 0 and 1 are identical: m = 1 exactly, distance exactly 0.
    encoding = sp.csr_matrix(
        np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.0, 0.25, 0.75]]))
    graph = sparse_jaccard_from_encoding(encoding)
    coo = graph.tocoo()
    stored = dict(zip(zip(coo.row.tolist(), coo.col.tolist()), coo.data))
    assert stored[(0, 1)] == 0 and stored[(1, 0)] == 0
    np.testing.assert_allclose(stored[(0, 2)], 1 - 0.25 / 1.75, atol=1e-7)
    # DBSCAN sees the zero-distance pair as neighbours.
    labels = DBSCAN(eps=0.1, min_samples=2,
                    metric='precomputed').fit_predict(graph)
    assert labels.tolist() == [0, 0, -1]


def test_float16_encoding_is_close():
    encoding, _, _ = encoding_of(clustered_features(8, 15, 16, 0.4, seed=9))
    exact = to_dense(sparse_jaccard_from_encoding(encoding))
    half = to_dense(sparse_jaccard_from_encoding(encoding, dtype='float16'))
    np.testing.assert_allclose(half, exact, atol=2e-3)
    assert np.abs(half - exact).max() > 0  # the option does something
    with pytest.raises(ValueError, match='float16'):
        sparse_jaccard_from_encoding(encoding, dtype='bfloat16')


def test_encoding_reuses_knn_distances():
    feats = clustered_features(8, 15, 16, 0.4, seed=10)
    dists, ranks = knn_search(feats, 20)
    recomputed = k_reciprocal_encoding(feats, ranks.numpy(), 20)
    reused = k_reciprocal_encoding(feats, ranks.numpy(), 20, dists.numpy())
    np.testing.assert_array_equal(recomputed.indices, reused.indices)
    np.testing.assert_allclose(reused.data, recomputed.data, atol=1e-6)


@pytest.mark.parametrize('max_distance', [None, 0.6])
def test_blocks_of_pairs_assemble_the_same_graph(max_distance):
    feats = noisy_blobs(seed=5)
    dists, ranks = knn_search(feats, 12, backend='torch')
    ranks = ranks.numpy()
    encoding = local_query_expansion(
        k_reciprocal_encoding(feats, ranks, 12, dists.numpy()), ranks, 4)
    whole = sparse_jaccard_from_encoding(
        encoding, max_distance=max_distance, max_triples=1 << 10)

    pairs = JaccardPairs(encoding)
    num = pairs.num
    assert pairs.row_triples.shape == (num, )
    bounds = [0, 37, 37, 120, num]
    parts = [
        pairs.upper_pairs(slice(a, b), max_distance, max_triples=1 << 9)
        for a, b in zip(bounds[:-1], bounds[1:])
    ]
    assert parts[1][0].size == 0  # the empty block
    for (rows, cols, _), a, b in zip(parts, bounds[:-1], bounds[1:]):
        assert ((rows >= a) & (rows < b) & (cols >= rows)).all()
    rows, cols, dist = (np.concatenate(arrays) for arrays in zip(*parts))
    graph = symmetric_jaccard_graph(rows, cols, dist, num)
    assert graph.dtype == whole.dtype
    for name in ('indptr', 'indices', 'data'):
        np.testing.assert_array_equal(
            getattr(graph, name), getattr(whole, name))
