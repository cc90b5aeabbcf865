"""The ``'torch'`` kNN backend: blocks and chunks do not change the result."""
import pytest
import torch

from mmreid_unsup.ops import torch_knn

from knn_reference import random_features


def test_torch_chunks_do_not_change_the_result():
    feats = random_features(97, 8, seed=3)
    whole = torch_knn(feats, 9)
    chunked = torch_knn(feats, 9, chunk_size=10)
    assert torch.equal(whole[1], chunked[1])
    torch.testing.assert_close(whole[0], chunked[0], atol=1e-6, rtol=0)


@pytest.mark.parametrize('block', [4, 7, 32, 200])
def test_symmetric_blocks_equal_row_chunks(block):
    # Blocks smaller than k, not dividing N, and larger than N; ties too.
    feats = torch.cat([random_features(90, 6, seed=block), torch.eye(6)[:3],
                       torch.eye(6)[:3]])
    rows = torch_knn(feats, 8, symmetric=False)
    blocks = torch_knn(feats, 8, chunk_size=block, symmetric=True)
    assert torch.equal(rows[1], blocks[1])
    torch.testing.assert_close(rows[0], blocks[0], atol=1e-6, rtol=0)
