"""The ``'faiss'`` kNN backend: agrees with torch, GPU use and fallback."""
import pytest
import torch

from mmreid_unsup.ops import is_faiss_available, knn_faiss, knn_search

from knn_reference import random_features

needs_faiss = pytest.mark.skipif(
    not is_faiss_available(), reason='faiss is not installed')


@needs_faiss
def test_faiss_and_torch_agree():
    # 300 queries take faiss's BLAS path; 7 takes its direct path.
    for num in (300, 7):
        feats = random_features(num, 32, seed=num)
        k = min(num, 20)
        faiss_dists, faiss_idx = knn_search(feats, k, backend='faiss')
        torch_dists, torch_idx = knn_search(feats, k, backend='torch')
        assert torch.equal(faiss_idx, torch_idx)
        torch.testing.assert_close(faiss_dists, torch_dists, atol=1e-5, rtol=0)


class _BrokenGpuResources:
    """Stands in for faiss.StandardGpuResources of a mismatched CUDA build."""

    def __init__(self):
        raise RuntimeError('CUDA error: the provided PTX was compiled with an '
                           'unsupported toolchain')


@needs_faiss
def test_faiss_gpu_failure_falls_back_to_cpu(monkeypatch):
    monkeypatch.setattr(
        knn_faiss.faiss, 'get_num_gpus', lambda: 1, raising=False)
    monkeypatch.setattr(
        knn_faiss.faiss,
        'StandardGpuResources',
        _BrokenGpuResources,
        raising=False)
    assert knn_faiss.faiss_gpu_count() == 1

    feats = random_features(60, 8, seed=5)
    with pytest.warns(RuntimeWarning, match='faiss GPU search failed.*PTX'):
        dists, indices = knn_search(feats, 7, backend='faiss')
    ref_dists, ref_indices = knn_search(feats, 7, backend='torch')
    assert torch.equal(indices, ref_indices)
    torch.testing.assert_close(dists, ref_dists, atol=1e-5, rtol=0)


@needs_faiss
def test_faiss_uses_the_gpu_index_when_a_gpu_is_seen(monkeypatch):
    calls = []

    def fake_search(queries, array, k, gpu_device):
        calls.append(gpu_device)
        index = knn_faiss.faiss.IndexFlatIP(array.shape[1])
        index.add(array)
        return index.search(queries, k)

    monkeypatch.setattr(
        knn_faiss.faiss, 'get_num_gpus', lambda: 2, raising=False)
    monkeypatch.setattr(knn_faiss, '_faiss_search', fake_search)
    feats = random_features(30, 8, seed=6)
    knn_search(feats, 5, backend='faiss')
    assert calls == [0]
    knn_faiss.faiss_knn(feats, 5, use_gpu=False)
    assert calls == [0, None]
