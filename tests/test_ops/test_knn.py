"""Exact kNN search: backends agree, self first, deterministic ties; the
``'auto'`` choice of backend."""
import pytest
import torch

from mmreid_unsup.ops import (bf16_knn, faiss_gpu_count, faiss_knn,
                              is_faiss_available, knn, knn_faiss, knn_search,
                              torch_knn)

from knn_reference import brute_force, random_features

BACKENDS = ['torch', 'torch_bf16'] + (['faiss']
                                      if is_faiss_available() else [])
needs_faiss = pytest.mark.skipif(
    not is_faiss_available(), reason='faiss is not installed')


@pytest.mark.parametrize('backend', BACKENDS)
def test_matches_brute_force_and_self_first(backend):
    feats = random_features(150, 16)
    dists, indices = knn_search(feats, 12, backend=backend)
    ref_dists, ref_indices = brute_force(feats, 12)

    assert dists.shape == indices.shape == (150, 12)
    assert dists.dtype == torch.float32 and indices.dtype == torch.int64
    assert torch.equal(indices, ref_indices)
    torch.testing.assert_close(dists.double(), ref_dists, atol=1e-5, rtol=0)
    assert torch.equal(indices[:, 0], torch.arange(150))
    assert (dists[:, 0] == 0).all()
    assert (dists[:, 1:] >= dists[:, :-1]).all()


@pytest.mark.parametrize('backend', BACKENDS)
def test_ties_broken_by_index(backend):
    # Three orthogonal directions, each repeated 4 times (rows i % 3 alike):
    # all similarities are exactly 0 or 1, so ties are exact everywhere.
    feats = torch.eye(3)[torch.arange(12) % 3]
    _, indices = knn_search(feats, 6, backend=backend)
    # Sample 0: itself, its duplicates 3, 6, 9 (distance 0), then the
    # smallest indices among the orthogonal ones (distance 2).
    assert indices[0].tolist() == [0, 3, 6, 9, 1, 2]
    assert indices[9].tolist() == [9, 0, 3, 6, 1, 2]
    assert indices[5].tolist() == [5, 2, 8, 11, 0, 1]
    # Deterministic: a second run gives the same answer.
    assert torch.equal(indices, knn_search(feats, 6, backend=backend)[1])


@pytest.mark.parametrize('backend', BACKENDS)
def test_self_kept_among_many_duplicates(backend):
    # Eight identical samples and k = 3: ties by index would pick 0, 1, 2
    # for everyone; the query itself still takes rank 0.
    feats = torch.ones(8, 4)
    dists, indices = knn_search(feats, 3, backend=backend)
    assert indices[7].tolist() == [7, 0, 1]
    assert indices[1].tolist() == [1, 0, 2]
    assert torch.equal(indices[:, 0], torch.arange(8))
    assert (dists == 0).all()


def test_features_are_normalised():
    feats = random_features(40, 8, seed=4)
    scaled = feats * torch.linspace(0.1, 5, 40)[:, None]
    assert torch.equal(
        knn_search(scaled, 5, backend='torch')[1],
        knn_search(feats, 5, backend='torch')[1])


@pytest.mark.parametrize('backend', BACKENDS)
def test_k_larger_than_n_is_a_clear_error(backend):
    feats = random_features(5, 4)
    with pytest.raises(ValueError, match='k=6 .* N=5'):
        knn_search(feats, 6, backend=backend)
    with pytest.raises(ValueError, match='positive'):
        knn_search(feats, 0, backend=backend)
    # k == N is allowed: every sample's full ranking.
    _, indices = knn_search(feats, 5, backend=backend)
    assert (indices.sort(dim=1).values == torch.arange(5)).all()


def test_unknown_backend():
    with pytest.raises(KeyError, match='annoy'):
        knn_search(random_features(5, 4), 2, backend='annoy')


def test_wrong_shape():
    with pytest.raises(ValueError, match=r'\(N, D\)'):
        knn_search(torch.zeros(5), 2)


def test_auto_without_faiss_uses_torch(monkeypatch):
    monkeypatch.setattr(knn_faiss, 'faiss', None)
    monkeypatch.setattr(knn, 'fast_bfloat16_matmul', lambda device: False)
    assert not is_faiss_available() and faiss_gpu_count() == 0
    feats = random_features(50, 8, seed=7)
    assert knn.knn_search_function('auto', feats) is torch_knn
    assert torch.equal(
        knn_search(feats, 6)[1],
        knn_search(feats, 6, backend='torch')[1])
    with pytest.raises(ImportError, match='faiss'):
        knn_search(feats, 6, backend='faiss')


@needs_faiss
def test_auto_prefers_a_faiss_gpu_else_torch(monkeypatch):

    class CudaLike:
        is_cuda = True
        device = torch.device('cuda', 0)

    cpu_feats = random_features(3, 2)
    # faiss-cpu: torch's symmetric search, on whatever device the features
    # are (the GPU for CUDA features).
    monkeypatch.setattr(knn, 'fast_bfloat16_matmul', lambda device: False)
    monkeypatch.setattr(
        knn_faiss.faiss, 'get_num_gpus', lambda: 0, raising=False)
    assert knn.knn_search_function('auto', CudaLike()) is torch_knn
    assert knn.knn_search_function('auto', cpu_feats) is torch_knn
    # A faiss that sees a GPU is preferred, wherever the features are.
    monkeypatch.setattr(
        knn_faiss.faiss, 'get_num_gpus', lambda: 1, raising=False)
    assert knn.knn_search_function('auto', CudaLike()) is faiss_knn
    assert knn.knn_search_function('auto', cpu_feats) is faiss_knn
    # Explicit names are honoured.
    assert knn.knn_search_function('faiss', cpu_feats) is faiss_knn


def test_auto_uses_the_certified_bf16_search_where_bf16_is_native(
        monkeypatch):
    monkeypatch.setattr(knn, 'faiss_gpu_count', lambda: 0)
    feats = random_features(40, 8, seed=8)
    monkeypatch.setattr(knn, 'fast_bfloat16_matmul', lambda device: True)
    assert knn.knn_search_function('auto', feats) is bf16_knn
    monkeypatch.setattr(knn, 'fast_bfloat16_matmul', lambda device: False)
    assert knn.knn_search_function('auto', feats) is torch_knn
    # A faiss that sees a GPU still comes first.
    monkeypatch.setattr(knn, 'faiss_gpu_count', lambda: 1)
    monkeypatch.setattr(knn, 'fast_bfloat16_matmul', lambda device: True)
    assert knn.knn_search_function('auto', feats) is faiss_knn
