"""The kNN search split over 2 gloo ranks returns, on both, the result of
the single-process search: bit-identical for the torch and bfloat16
backends, equal up to float32 rounding for faiss with shares that do not
follow faiss's own query blocks; other backends are searched on rank 0."""
import pytest
import torch
from gloo_ranks import run_on_gloo_ranks
from knn_reference import random_features

from mmreid_unsup.ops import is_faiss_available, knn_search
from mmreid_unsup.ops.knn_torch import torch_knn
from mmreid_unsup.pseudo_labels import sharded_knn
from mmreid_unsup.pseudo_labels.sharded_knn import sharded_knn_search

pytestmark = pytest.mark.dist

#: (name, N, k, backend, block): blocks smaller than the defaults so that a
#: few hundred samples make several blocks; 301 is odd on purpose, and one
#: sample leaves a rank without rows.
CASES = [
    ('torch_one_block', 300, 10, 'torch', None),
    ('torch_blocks', 301, 10, 'torch', 64),
    ('bf16_blocks', 301, 10, 'torch_bf16', 64),
    ('torch_single_sample', 1, 1, 'torch', 64),
    ('bf16_single_sample', 1, 1, 'torch_bf16', 64),
    # A backend config with options is searched on rank 0 and broadcast.
    ('torch_config', 150, 10, dict(type='torch', chunk_size=32), None),
] + ([('faiss_blocks', 250, 10, 'faiss', 100),
      ('faiss_single_sample', 1, 1, 'faiss', 100)]
     if is_faiss_available() else [])


def _features(num):
    return random_features(num, 64, seed=num)


def _reference(num, k, backend, block):
    """The single-process search with the same blocks."""
    feats = _features(num)
    if backend == 'torch' and block is not None:
        return torch_knn(feats, k, chunk_size=block)
    return knn_search(feats, k, backend=backend)


def _unsplit(features, k):
    """The torch search under another identity: no split is known."""
    return torch_knn(features, k) if torch.distributed.get_rank() == 0 else (
        None, None)


def _compare(got, want, exact):
    """Small verdicts travel back from the workers (large results would
    fill the result queue's pipe before the parent reads it)."""
    (got_dists, got_idx), (want_dists, want_idx) = got, want
    same_dists = (
        torch.equal(got_dists, want_dists) if exact else torch.allclose(
            got_dists, want_dists, rtol=0, atol=1e-6))
    return dict(
        shape=tuple(got_idx.shape),
        same_indices=torch.equal(got_idx, want_idx),
        same_dists=same_dists)


def _worker(rank):
    verdicts = {}
    for name, num, k, backend, block in CASES:
        if block is not None:
            sharded_knn.SYMMETRIC_BLOCK = block
            sharded_knn.BF16_BLOCK = block
            sharded_knn.FAISS_QUERY_BLOCK = block
        got = sharded_knn_search(_features(num), k, backend)
        verdicts[name] = _compare(got, _reference(num, k, backend, block),
                                  backend != 'faiss')
    # A backend without a split is searched on rank 0 and broadcast.
    sharded_knn.knn_search_function = lambda backend, features: _unsplit
    got = sharded_knn_search(_features(40), 5)
    verdicts['other_backend'] = _compare(
        got, knn_search(_features(40), 5, backend='torch'), True)
    return verdicts


def test_split_search_equals_the_single_process_search():
    ranks = run_on_gloo_ranks(_worker)
    expected = {
        name: dict(shape=(num, k), same_indices=True, same_dists=True)
        for name, num, k, _, _ in CASES
    }
    expected['other_backend'] = dict(
        shape=(40, 5), same_indices=True, same_dists=True)
    assert ranks[0] == expected
    assert ranks[1] == expected
