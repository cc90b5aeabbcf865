"""Exact kNN search: backends agree, self first, deterministic ties."""
import pytest
import torch

from mmreid_unsup.pseudo_labels import is_faiss_available, knn_search
from mmreid_unsup.pseudo_labels.knn import torch_knn

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


class _BrokenGpuResources:
    """Stands in for faiss.StandardGpuResources of a mismatched CUDA build."""

    def __init__(self):
        raise RuntimeError('CUDA error: the provided PTX was compiled with an '
                           'unsupported toolchain')


@needs_faiss
def test_faiss_gpu_failure_falls_back_to_cpu(monkeypatch):
    from mmreid_unsup.pseudo_labels import knn
    monkeypatch.setattr(knn.faiss, 'get_num_gpus', lambda: 1, raising=False)
    monkeypatch.setattr(
        knn.faiss, 'StandardGpuResources', _BrokenGpuResources, raising=False)
    assert knn.faiss_gpu_count() == 1

    feats = random_features(60, 8, seed=5)
    with pytest.warns(RuntimeWarning, match='faiss GPU search failed.*PTX'):
        dists, indices = knn_search(feats, 7, backend='faiss')
    ref_dists, ref_indices = knn_search(feats, 7, backend='torch')
    assert torch.equal(indices, ref_indices)
    torch.testing.assert_close(dists, ref_dists, atol=1e-5, rtol=0)


@needs_faiss
def test_faiss_uses_the_gpu_index_when_a_gpu_is_seen(monkeypatch):
    from mmreid_unsup.pseudo_labels import knn
    calls = []

    def fake_search(array, k, gpu_device):
        calls.append(gpu_device)
        index = knn.faiss.IndexFlatIP(array.shape[1])
        index.add(array)
        return index.search(array, k)

    monkeypatch.setattr(knn.faiss, 'get_num_gpus', lambda: 2, raising=False)
    monkeypatch.setattr(knn, '_faiss_search', fake_search)
    feats = random_features(30, 8, seed=6)
    knn_search(feats, 5, backend='faiss')
    assert calls == [0]
    knn.faiss_knn(feats, 5, use_gpu=False)
    assert calls == [0, None]


def test_auto_without_faiss_uses_torch(monkeypatch):
    from mmreid_unsup.pseudo_labels import knn
    monkeypatch.setattr(knn, 'faiss', None)
    monkeypatch.setattr(knn, 'fast_bfloat16_matmul', lambda device: False)
    assert not knn.is_faiss_available() and knn.faiss_gpu_count() == 0
    feats = random_features(50, 8, seed=7)
    assert knn._resolve_backend('auto', feats) is knn.torch_knn
    assert torch.equal(
        knn_search(feats, 6)[1],
        knn_search(feats, 6, backend='torch')[1])
    with pytest.raises(ImportError, match='faiss'):
        knn_search(feats, 6, backend='faiss')


@needs_faiss
def test_auto_prefers_a_faiss_gpu_else_torch(monkeypatch):
    from mmreid_unsup.pseudo_labels import knn

    class CudaLike:
        is_cuda = True
        device = torch.device('cuda', 0)

    cpu_feats = random_features(3, 2)
    # faiss-cpu: torch's symmetric search, on whatever device the features
    # are (the GPU for CUDA features).
    monkeypatch.setattr(knn, 'fast_bfloat16_matmul', lambda device: False)
    monkeypatch.setattr(knn.faiss, 'get_num_gpus', lambda: 0, raising=False)
    assert knn._resolve_backend('auto', CudaLike()) is knn.torch_knn
    assert knn._resolve_backend('auto', cpu_feats) is knn.torch_knn
    # A faiss that sees a GPU is preferred, wherever the features are.
    monkeypatch.setattr(knn.faiss, 'get_num_gpus', lambda: 1, raising=False)
    assert knn._resolve_backend('auto', CudaLike()) is knn.faiss_knn
    assert knn._resolve_backend('auto', cpu_feats) is knn.faiss_knn
    # Explicit names are honoured.
    assert knn._resolve_backend('faiss', cpu_feats) is knn.faiss_knn


def test_auto_uses_the_certified_bf16_search_where_bf16_is_native(
        monkeypatch):
    from mmreid_unsup.pseudo_labels import bf16_knn, knn
    monkeypatch.setattr(knn, 'faiss_gpu_count', lambda: 0)
    feats = random_features(40, 8, seed=8)
    monkeypatch.setattr(knn, 'fast_bfloat16_matmul', lambda device: True)
    assert knn._resolve_backend('auto', feats) is bf16_knn
    monkeypatch.setattr(knn, 'fast_bfloat16_matmul', lambda device: False)
    assert knn._resolve_backend('auto', feats) is knn.torch_knn
    # A faiss that sees a GPU still comes first.
    monkeypatch.setattr(knn, 'faiss_gpu_count', lambda: 1)
    monkeypatch.setattr(knn, 'fast_bfloat16_matmul', lambda device: True)
    assert knn._resolve_backend('auto', feats) is knn.faiss_knn


def test_fast_bfloat16_matmul_only_on_a_cpu_with_onednn(monkeypatch):
    from mmreid_unsup.pseudo_labels.knn import fast_bfloat16_matmul
    assert fast_bfloat16_matmul(torch.device('meta')) is False
    assert fast_bfloat16_matmul(torch.device('cuda', 0)) is False
    assert isinstance(fast_bfloat16_matmul(torch.device('cpu')), bool)
    monkeypatch.setattr(torch.backends.mkldnn, 'is_available', lambda: False)
    assert fast_bfloat16_matmul(torch.device('cpu')) is False


def test_pair_inner_products_match_a_full_product():
    from mmreid_unsup.pseudo_labels import pair_inner_products
    from mmreid_unsup.pseudo_labels import knn
    feats = random_features(30, 5, seed=9)
    gen = torch.Generator().manual_seed(0)
    rows = torch.randint(0, 30, (2500, ), generator=gen)
    cols = torch.randint(0, 30, (2500, ), generator=gen)
    full = feats @ feats.t()
    # Several chunks of the reused gather buffers.
    old = knn._PAIR_CHUNK
    knn._PAIR_CHUNK = 256
    try:
        dots = pair_inner_products(feats, rows, cols.int())
    finally:
        knn._PAIR_CHUNK = old
    assert dots.shape == (2500, ) and dots.dtype == torch.float32
    torch.testing.assert_close(dots, full[rows, cols], atol=1e-6, rtol=0)
    assert pair_inner_products(feats, rows[:0], cols[:0]).shape == (0, )
