"""The approximate ``'faiss_hnsw'`` kNN backend: recall against the exact
search, the ordering contract, determinism, ``'auto'``'s size threshold and
the error without faiss."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmreid_unsup.ops import (faiss_hnsw_knn, is_faiss_available, knn,
                              knn_faiss, knn_faiss_approximate, knn_search,
                              torch_knn)

from knn_reference import brute_force, random_features

needs_faiss = pytest.mark.skipif(
    not is_faiss_available(), reason='faiss is not installed')


def clustered_features(num_ids: int = 40,
                       per_id: int = 20,
                       dim: int = 32,
                       noise: float = 0.7,
                       seed: int = 0) -> torch.Tensor:
    """Unit features around ``num_ids`` random centres, rows shuffled."""
    gen = torch.Generator().manual_seed(seed)
    centres = F.normalize(torch.randn(num_ids, dim, generator=gen), dim=1)
    feats = centres.repeat_interleave(per_id, dim=0)
    feats = feats + noise * F.normalize(
        torch.randn(feats.shape, generator=gen), dim=1)
    order = torch.randperm(feats.size(0), generator=gen)
    return F.normalize(feats[order], dim=1)


def recall(indices: torch.Tensor, ref_indices: torch.Tensor) -> float:
    """Fraction of the reference neighbours found, row by row."""
    hits = sum(
        len(set(row.tolist()) & set(ref.tolist()))
        for row, ref in zip(indices, ref_indices))
    return hits / ref_indices.numel()


@needs_faiss
def test_recall_against_exact_search_on_clusters():
    feats = clustered_features()
    dists, indices = knn_search(feats, 20, backend='faiss_hnsw')
    _, ref_indices = brute_force(feats, 20)
    assert dists.shape == indices.shape == (800, 20)
    assert dists.dtype == torch.float32 and indices.dtype == torch.int64
    assert recall(indices, ref_indices) >= 0.99


@needs_faiss
def test_contract_self_first_sorted_exact_distances():
    feats = clustered_features(seed=1)
    dists, indices = knn_search(feats, 15, backend='faiss_hnsw')
    num = feats.size(0)
    assert torch.equal(indices[:, 0], torch.arange(num))
    assert (dists[:, 0] == 0).all()
    assert (dists[:, 1:] >= dists[:, :-1]).all()
    # Every row lists distinct samples.
    assert (indices.sort(dim=1).values.diff(dim=1) > 0).all()
    # Distances are the exact ones of the pairs returned, not the graph's.
    exact = 2 - 2 * (feats.double()[:, None, :] *
                     feats.double()[indices]).sum(-1)
    exact[:, 0] = 0
    torch.testing.assert_close(
        dists.double(), exact.clamp(min=0), atol=1e-5, rtol=0)
    # Equal distances among the returned neighbours are ordered by index.
    same = dists[:, 2:] == dists[:, 1:-1]
    assert (indices[:, 2:][same] > indices[:, 1:-1][same]).all()


@needs_faiss
def test_query_first_among_duplicates():
    # Eight identical samples, k = 3: the query itself still takes rank 0.
    dists, indices = knn_search(torch.ones(8, 4), 3, backend='faiss_hnsw')
    assert torch.equal(indices[:, 0], torch.arange(8))
    assert (dists == 0).all()
    # And on a tiny set the graph walk sees everything: the exact result.
    feats = random_features(40, 8, seed=3)
    assert torch.equal(
        knn_search(feats, 6, backend='faiss_hnsw')[1],
        brute_force(feats, 6)[1])


@needs_faiss
def test_deterministic_across_runs_and_threads():
    feats = clustered_features(seed=2)
    dists, indices = faiss_hnsw_knn(feats, 12)
    again = faiss_hnsw_knn(feats, 12)
    assert torch.equal(indices, again[1]) and torch.equal(dists, again[0])
    if knn_faiss_approximate.deterministic_build():
        two_threads = faiss_hnsw_knn(feats, 12, num_threads=2)
        assert torch.equal(indices, two_threads[1])
    # The thread count is restored.
    before = knn_faiss.faiss.omp_get_max_threads()
    faiss_hnsw_knn(feats, 12, num_threads=before + 1)
    assert knn_faiss.faiss.omp_get_max_threads() == before


@needs_faiss
def test_rows_the_walk_left_short_are_searched_exhaustively(monkeypatch):
    real_index = knn_faiss.faiss.IndexHNSWFlat

    class ShortIndex:
        """Forgets the last candidates of every third row."""

        def __init__(self, *args):
            self.index = real_index(*args)
            self.hnsw = self.index.hnsw

        def add(self, array):
            self.index.add(array)

        def search(self, array, k, params=None):
            sims, found = self.index.search(array, k, params=params)
            found[::3, -3:] = -1
            sims[::3, -3:] = -np.inf
            return sims, found

    monkeypatch.setattr(knn_faiss.faiss, 'IndexHNSWFlat', ShortIndex)
    feats = random_features(90, 8, seed=9)
    dists, indices = knn_search(feats, 10, backend='faiss_hnsw')
    ref_dists, ref_indices = brute_force(feats, 10)
    assert torch.equal(indices[::3], ref_indices[::3])
    torch.testing.assert_close(
        dists[::3].double(), ref_dists[::3], atol=1e-5, rtol=0)
    assert (indices >= 0).all()


@needs_faiss
def test_labels_close_to_the_exact_backend():
    from sklearn.metrics import adjusted_rand_score

    from mmreid_unsup.pseudo_labels import DBSCANLabeler
    feats = clustered_features(num_ids=60, per_id=15, noise=0.8, seed=4)
    exact = DBSCANLabeler(knn_backend='torch')(feats).numpy()
    approx = DBSCANLabeler(knn_backend='faiss_hnsw')(feats).numpy()
    assert adjusted_rand_score(exact, approx) >= 0.98


def _no_bf16_no_gpu(monkeypatch):
    monkeypatch.setattr(knn, 'fast_bfloat16_matmul', lambda device: False)
    monkeypatch.setattr(knn, 'faiss_gpu_count', lambda: 0)


@needs_faiss
def test_auto_picks_the_approximate_search_above_the_threshold(
        monkeypatch):
    _no_bf16_no_gpu(monkeypatch)
    assert knn.APPROXIMATE_ABOVE == 200_000
    monkeypatch.setattr(knn, 'APPROXIMATE_ABOVE', 50)
    assert knn.knn_search_function('auto', random_features(50, 4)) is torch_knn
    big = random_features(51, 4)
    assert knn.knn_search_function('auto', big) is faiss_hnsw_knn
    assert torch.equal(
        knn_search(big, 5)[1],
        knn_search(big, 5, backend='faiss_hnsw')[1])
    # A faiss that sees a GPU keeps its exact search at every size.
    monkeypatch.setattr(knn, 'faiss_gpu_count', lambda: 1)
    assert knn.knn_search_function('auto', big) is knn_faiss.faiss_knn
    monkeypatch.setattr(knn, 'faiss_gpu_count', lambda: 0)

    # Features on a GPU keep the exact torch search there.
    class CudaLike:
        device = torch.device('cuda', 0)

        def size(self, dim):
            return 10**9

    assert knn.knn_search_function('auto', CudaLike()) is torch_knn


def test_auto_without_faiss_stays_exact_and_warns(monkeypatch):
    _no_bf16_no_gpu(monkeypatch)
    monkeypatch.setattr(knn_faiss, 'faiss', None)
    monkeypatch.setattr(knn, 'APPROXIMATE_ABOVE', 20)
    feats = random_features(30, 4)
    with pytest.warns(RuntimeWarning, match='faiss-cpu'):
        assert knn.knn_search_function('auto', feats) is torch_knn


def test_missing_faiss_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(knn_faiss, 'faiss', None)
    with pytest.raises(ImportError, match="'faiss_hnsw'.*pip install faiss"):
        knn_search(random_features(10, 4), 3, backend='faiss_hnsw')
    assert not knn_faiss_approximate.deterministic_build()


@needs_faiss
@pytest.mark.parametrize('storage', ['fp16', 'sq8'])
def test_quantised_storage_still_returns_exact_distances(storage):
    feats = clustered_features(seed=6)
    dists, indices = faiss_hnsw_knn(feats, 12, storage=storage)
    flat_dists, flat_indices = faiss_hnsw_knn(feats, 12)
    assert recall(indices, flat_indices) >= 0.98
    assert torch.equal(indices[:, 0], torch.arange(feats.size(0)))
    exact = 2 - 2 * (feats[:, None, :] * feats[indices]).sum(-1)
    exact[:, 0] = 0
    torch.testing.assert_close(dists, exact.clamp(min=0), atol=1e-5, rtol=0)
    assert (dists[:, 1:] >= dists[:, :-1]).all()


@needs_faiss
def test_bad_parameters():
    with pytest.raises(ValueError, match='m >= 2'):
        faiss_hnsw_knn(random_features(10, 4), 3, m=1)
    with pytest.raises(ValueError, match='storage'):
        faiss_hnsw_knn(random_features(10, 4), 3, storage='pq')
    with pytest.raises(ValueError, match=r'k=11 .* N=10'):
        faiss_hnsw_knn(random_features(10, 4), 11)


@needs_faiss
def test_a_config_dict_passes_options_to_the_backend(monkeypatch):
    seen = {}
    real = knn_faiss.faiss.SearchParametersHNSW

    def spy():
        params = real()
        seen['params'] = params
        return params

    monkeypatch.setattr(knn_faiss.faiss, 'SearchParametersHNSW', spy)
    feats = clustered_features(seed=5)
    config = dict(type='faiss_hnsw', ef_search=100)
    assert torch.equal(
        knn_search(feats, 10, backend=config)[1],
        faiss_hnsw_knn(feats, 10, ef_search=100)[1])
    assert seen['params'].efSearch == 100
    with pytest.raises(ValueError, match='type='):
        knn_search(feats, 10, backend=dict(ef_search=100))
    with pytest.raises(ValueError, match='not "auto"'):
        knn_search(feats, 10, backend=dict(type='auto'))
    with pytest.raises(KeyError, match='annoy'):
        knn_search(feats, 10, backend=dict(type='annoy'))



@needs_faiss
def test_exact_never_picks_the_approximate_search(monkeypatch):
    # 'exact' is 'auto' restricted to exact backends: above the threshold it
    # still searches exactly (the re-ranking's default), and a faiss that
    # sees a GPU is still picked.
    _no_bf16_no_gpu(monkeypatch)
    monkeypatch.setattr(knn, 'APPROXIMATE_ABOVE', 10)
    feats = random_features(40, 4)
    assert knn.knn_search_function('auto', feats) is faiss_hnsw_knn
    assert knn.knn_search_function('exact', feats) is torch_knn
    monkeypatch.setattr(knn, 'faiss_gpu_count', lambda: 1)
    assert knn.knn_search_function('exact', feats) is knn_faiss.faiss_knn
    with pytest.raises(ValueError, match='not "auto" or "exact"'):
        knn.knn_search_function(dict(type='exact'), feats)
