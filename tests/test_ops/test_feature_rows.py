"""Row operations on feature matrices."""
import torch

from mmreid_unsup.ops import feature_rows, pair_inner_products

from knn_reference import random_features


def test_pair_inner_products_match_a_full_product():
    feats = random_features(30, 5, seed=9)
    gen = torch.Generator().manual_seed(0)
    rows = torch.randint(0, 30, (2500, ), generator=gen)
    cols = torch.randint(0, 30, (2500, ), generator=gen)
    full = feats @ feats.t()
    # Several chunks of the reused gather buffers.
    old = feature_rows._PAIR_CHUNK
    feature_rows._PAIR_CHUNK = 256
    try:
        dots = pair_inner_products(feats, rows, cols.int())
    finally:
        feature_rows._PAIR_CHUNK = old
    assert dots.shape == (2500, ) and dots.dtype == torch.float32
    torch.testing.assert_close(dots, full[rows, cols], atol=1e-6, rtol=0)
    assert pair_inner_products(feats, rows[:0], cols[:0]).shape == (0, )
