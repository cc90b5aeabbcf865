"""The vectorised Jaccard distance against a plain reading of the algorithm."""
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from jaccard_reference import brute_force_jaccard, clustered_features

from mmreid_unsup.ops import (compute_jaccard_distance, is_faiss_available,
                              jaccard_distance_from_encoding)

BACKENDS = ['torch'] + (['faiss'] if is_faiss_available() else [])


CASES = [
    # (num_clusters, per_cluster, dim, spread, k1, k2, seed)
    (6, 12, 8, 0.35, 20, 6, 0),
    (4, 15, 6, 0.5, 30, 6, 1),
    (10, 9, 8, 0.3, 11, 1, 2),  # round(5.5) = 6, not 5
    (5, 20, 10, 0.6, 13, 4, 3),
    (3, 20, 4, 0.8, 7, 7, 4),  # round(3.5) = 4; k2 = k1
]


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('case', CASES)
def test_matches_brute_force_reference(case, backend):
    num_clusters, per_cluster, dim, spread, k1, k2, seed = case
    feats = clustered_features(num_clusters, per_cluster, dim, spread, seed)
    expected = brute_force_jaccard(feats.double().numpy().tolist(), k1, k2)

    got = compute_jaccard_distance(feats, k1=k1, k2=k2, backend=backend)

    assert got.dtype == np.float32
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)
    # The data is informative: both near and far pairs occur.
    assert 0.05 < (expected < 0.7).mean() < 0.95


def test_properties_zero_diagonal_symmetric_bounded():
    feats = clustered_features(8, 15, 16, 0.4, seed=5)
    dist = compute_jaccard_distance(feats, k1=20, k2=6)
    np.testing.assert_allclose(np.diag(dist), 0, atol=1e-6)
    np.testing.assert_allclose(dist, dist.T, atol=1e-6)
    assert dist.min() >= 0 and dist.max() <= 1


def test_unnormalised_features_are_normalised():
    feats = clustered_features(5, 12, 8, 0.4, seed=6)
    scales = torch.linspace(0.5, 3.0, feats.size(0))[:, None]
    np.testing.assert_allclose(
        compute_jaccard_distance(feats * scales, k1=10, k2=3),
        compute_jaccard_distance(feats, k1=10, k2=3),
        atol=1e-6)


def test_jaccard_from_encoding_formula():
    # Two rows sharing mass 0.5 on column 0: m = 0.5, d = 1 - 0.5 / 1.5.
    encoding = sp.csr_matrix(
        np.array([[0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.0, 1.0]]))
    dist = jaccard_distance_from_encoding(encoding)
    np.testing.assert_allclose(
        dist, [[0, 2 / 3, 1], [2 / 3, 0, 2 / 3], [1, 2 / 3, 0]], atol=1e-7)


@pytest.mark.parametrize('k1,k2', [(0, 1), (5, 6), (61, 6)])
def test_invalid_k(k1, k2):
    feats = clustered_features(5, 12, 8, 0.4, seed=7)
    with pytest.raises(ValueError):
        compute_jaccard_distance(feats, k1=k1, k2=k2)
