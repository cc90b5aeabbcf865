"""The ``'torch'`` kNN backend: blocks and chunks do not change the result."""
import pytest
import torch

from mmreid_unsup.ops import torch_knn
from mmreid_unsup.ops.knn_ordering import (lexicographic_topk,
                                           sort_and_put_self_first,
                                           upper_block_pairs)
from mmreid_unsup.ops.knn_torch import symmetric_block_topk

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


def test_shares_of_the_blocks_merge_into_the_whole_search():
    # Duplicated rows make ties across shares: the merge cuts them by index.
    feats = torch.cat([random_features(70, 6, seed=9), torch.eye(6)[:3],
                       torch.eye(6)[:3]])
    num, k = feats.size(0), 8
    pairs = list(upper_block_pairs(num, 16))
    shares = [pairs[0::3], pairs[1::3], pairs[2::3], []]
    lists = [symmetric_block_topk(feats, k, share) for share in shares]
    sims, idx = lexicographic_topk(
        torch.cat([s for s, _ in lists], dim=1),
        torch.cat([i for _, i in lists], dim=1), k)
    merged = sort_and_put_self_first(sims, idx, torch.arange(num))
    whole = torch_knn(feats, k, chunk_size=16)
    assert torch.equal(merged[0], whole[0])
    assert torch.equal(merged[1], whole[1])
    # A share without blocks holds only sentinels.
    assert torch.isinf(lists[3][0]).all() and (lists[3][1] == num).all()


def test_blocks_in_any_order_reuse_the_product_buffers():
    # The partial last block first: the reused buffers must grow for the
    # full blocks after it, and every block must see only its own products.
    feats = random_features(75, 6, seed=4)
    pairs = list(upper_block_pairs(75, 16))
    forward = symmetric_block_topk(feats, 7, pairs)
    backward = symmetric_block_topk(feats, 7, reversed(pairs))
    whole = sort_and_put_self_first(*forward, torch.arange(75))
    reversed_order = sort_and_put_self_first(*backward, torch.arange(75))
    rows = torch_knn(feats, 7, symmetric=False)
    assert torch.equal(reversed_order[1], whole[1])
    assert torch.equal(whole[1], rows[1])
    torch.testing.assert_close(reversed_order[0], whole[0], atol=1e-6, rtol=0)
    torch.testing.assert_close(whole[0], rows[0], atol=1e-6, rtol=0)
    # Features that require grad are searched as they are.
    assert torch.equal(
        symmetric_block_topk(feats.requires_grad_(), 7, pairs)[1],
        forward[1])
