"""``symmetric_block_products``: every block of ``F F^T`` once for its rows
and once, transposed, for its columns, through reused buffers."""
import torch

from mmreid_unsup.ops.knn_ordering import (symmetric_block_products,
                                           upper_block_pairs)

from knn_reference import random_features


def test_blocks_in_any_order_are_the_products_they_name():
    # The partial last block first: the buffers grow for the full blocks
    # after it, and each yielded block holds only its own products.
    feats = random_features(45, 6, seed=2)
    full = feats @ feats.t()
    pairs = list(upper_block_pairs(45, 16))
    seen = torch.zeros(45, 45, dtype=torch.int)
    for rows, sims, first_col in symmetric_block_products(
            feats.requires_grad_(), reversed(pairs)):
        cols = slice(first_col, first_col + sims.size(1))
        torch.testing.assert_close(sims, full[rows, cols].detach())
        seen[rows, cols] += 1
    # Every entry of F F^T exactly once (diagonal blocks serve both ways).
    assert bool((seen == 1).all())
