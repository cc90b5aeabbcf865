"""Test-time k-reciprocal re-ranking against a dense per-image reference."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from rerank_reference import clustered_features, reference_rerank

from mmreid_unsup.ops import (jaccard_distance_from_encoding,
                              k_reciprocal_encoding, k_reciprocal_rerank,
                              k_reciprocal_rerank_blocks, knn_search,
                              local_query_expansion)


@pytest.mark.parametrize('k1,k2,lambda_value', [(20, 6, 0.3), (7, 1, 0.0),
                                                (5, 3, 1.0)])
def test_matches_dense_reference(k1, k2, lambda_value):
    q, g, _, _ = clustered_features(0)
    expected = reference_rerank(q, g, k1, k2, lambda_value)
    got = k_reciprocal_rerank(
        q, g, k1=k1, k2=k2, lambda_value=lambda_value, knn_backend='torch')
    assert got.dtype == torch.float32 and got.shape == (12, 40)
    np.testing.assert_allclose(got.numpy(), expected, atol=2e-5)


def test_jaccard_part_equals_the_pseudo_label_jaccard():
    q, g, _, _ = clustered_features(1)
    feats = F.normalize(torch.cat([q, g]), dim=1)
    _, initial_rank = knn_search(feats, 10, backend='torch')
    initial_rank = initial_rank.numpy()
    encoding = local_query_expansion(
        k_reciprocal_encoding(feats, initial_rank, 10), initial_rank, 4)
    dense = jaccard_distance_from_encoding(encoding)
    got = k_reciprocal_rerank(
        q, g, k1=10, k2=4, lambda_value=0.0, knn_backend='torch')
    np.testing.assert_allclose(got.numpy(), dense[:12, 12:], atol=1e-6)


def test_blocks_do_not_depend_on_chunk_size():
    q, g, _, _ = clustered_features(2)
    whole = k_reciprocal_rerank(q, g, k1=8, k2=3)
    blocks = list(k_reciprocal_rerank_blocks(q, g, k1=8, k2=3, chunk_size=5))
    assert [start for start, _ in blocks] == [0, 5, 10]
    torch.testing.assert_close(torch.cat([b for _, b in blocks]), whole)


def test_invalid_settings():
    q, g, _, _ = clustered_features(5)
    with pytest.raises(ValueError, match='lambda_value'):
        next(k_reciprocal_rerank_blocks(q, g, lambda_value=1.5))
    with pytest.raises(ValueError, match='k2 <= k1'):
        next(k_reciprocal_rerank_blocks(q, g, k1=3, k2=4))
    with pytest.raises(ValueError, match='number of query'):
        next(k_reciprocal_rerank_blocks(q, g, k1=100, k2=4))
