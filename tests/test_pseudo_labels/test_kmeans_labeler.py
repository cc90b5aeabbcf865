"""KMeansLabeler with faiss (CPU, GPU fallback) and scikit-learn."""
import pytest
from sklearn.metrics import adjusted_rand_score
from test_dbscan_labeler import planted_clusters

from mmreid_unsup.ops import is_faiss_available
from mmreid_unsup.pseudo_labels import KMeansLabeler
from mmreid_unsup.registry import PSEUDO_LABELERS

BACKENDS = ['sklearn'] + (['faiss'] if is_faiss_available() else [])
needs_faiss = pytest.mark.skipif(
    not is_faiss_available(), reason='faiss is not installed')


def separated(seed=0):
    # Three very tight clusters: every initialisation converges to them.
    return planted_clusters(
        num_clusters=3, per_cluster=20, num_outliers=0, spread=0.01,
        seed=seed)


@pytest.mark.parametrize('backend', BACKENDS)
def test_recovers_separated_clusters(backend):
    feats, truth = separated()
    labeler = KMeansLabeler(3, backend=backend)
    labels = labeler(feats)
    assert adjusted_rand_score(truth.numpy(), labels.numpy()) == 1.0
    assert labeler.last_stats['num_outliers'] == 0
    assert labeler.last_stats['num_clusters'] == 3
    assert labeler.last_stats['time_kmeans'] >= 0


def test_num_clusters_clamped_to_samples():
    feats, _ = separated()
    labels = KMeansLabeler(1000, backend='sklearn')(feats[:5])
    assert sorted(labels.tolist()) == [0, 1, 2, 3, 4]


@needs_faiss
def test_gpu_failure_falls_back_to_cpu(monkeypatch):
    from mmreid_unsup.pseudo_labels import kmeans_labeler
    real_kmeans = kmeans_labeler.faiss.Kmeans

    def kmeans(*args, gpu=False, **kwargs):
        if gpu:
            raise RuntimeError('CUDA driver version is insufficient')
        return real_kmeans(*args, gpu=gpu, **kwargs)

    monkeypatch.setattr(kmeans_labeler.faiss, 'Kmeans', kmeans)
    feats, truth = separated(seed=1)
    with pytest.warns(RuntimeWarning, match='GPU k-means failed'):
        labels = KMeansLabeler(3, use_gpu=True)(feats)
    assert adjusted_rand_score(truth.numpy(), labels.numpy()) == 1.0


def test_sklearn_without_faiss(monkeypatch):
    from mmreid_unsup.pseudo_labels import kmeans_labeler
    monkeypatch.setattr(kmeans_labeler, 'faiss', None)
    feats, truth = separated(seed=2)
    labels = KMeansLabeler(3)(feats)  # 'auto' -> scikit-learn
    assert adjusted_rand_score(truth.numpy(), labels.numpy()) == 1.0
    with pytest.raises(ImportError):
        KMeansLabeler(3, backend='faiss')


def test_registry_and_validation():
    labeler = PSEUDO_LABELERS.build(dict(type='KMeansLabeler',
                                         num_clusters=7))
    assert isinstance(labeler, KMeansLabeler) and labeler.num_clusters == 7
    with pytest.raises(ValueError):
        KMeansLabeler(0)
    with pytest.raises(ValueError):
        KMeansLabeler(3, backend='cuml')
