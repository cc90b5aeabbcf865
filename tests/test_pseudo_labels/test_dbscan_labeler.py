"""DBSCANLabeler recovers planted clusters and reports its statistics."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from jaccard_reference import dense_jaccard, noisy_blobs
from sklearn.cluster import DBSCAN
from sklearn.metrics import adjusted_rand_score

from mmreid_unsup.ops import is_faiss_available
from mmreid_unsup.pseudo_labels import (BaseLabeler, DBSCANLabeler,
                                        relabel_contiguous)
from mmreid_unsup.registry import PSEUDO_LABELERS

BACKENDS = ['torch'] + (['faiss'] if is_faiss_available() else [])


def planted_clusters(num_clusters=5,
                     per_cluster=12,
                     num_outliers=3,
                     dim=32,
                     spread=0.05,
                     seed=0):
    """Tight clusters on the unit sphere plus lone points far from all.

    Cluster centres are distinct basis vectors (pairwise squared distance
    2). Each outlier is its own basis vector pushed away from all centres,
    so no cluster member has an outlier among its k-reciprocal neighbours.

    Returns:
        tuple: features ``(N, D)`` (shuffled), ground-truth cluster of each
        sample (-1 for the planted outliers).
    """
    gen = torch.Generator().manual_seed(seed)
    basis = torch.eye(dim)
    members = basis[:num_clusters].repeat_interleave(per_cluster, dim=0)
    members = members + spread * torch.randn(members.shape, generator=gen)
    outliers = (
        basis[num_clusters:num_clusters + num_outliers] -
        0.5 * basis[:num_clusters].sum(dim=0))
    feats = F.normalize(torch.cat([members, outliers]), dim=1)
    truth = torch.cat([
        torch.arange(num_clusters).repeat_interleave(per_cluster),
        torch.full((num_outliers, ), -1)
    ])
    perm = torch.randperm(len(truth), generator=gen)
    return feats[perm], truth[perm]


@pytest.mark.parametrize('seed', [0, 1])
@pytest.mark.parametrize('backend', BACKENDS)
def test_recovers_planted_partition(backend, seed):
    feats, truth = planted_clusters(seed=seed)
    labeler = DBSCANLabeler(knn_backend=backend)  # Cluster-Contrast defaults
    labels = labeler(feats)

    assert labels.dtype == torch.int64 and labels.shape == truth.shape
    members = truth >= 0
    assert adjusted_rand_score(truth[members].numpy(),
                               labels[members].numpy()) == 1.0
    assert (labels[~members] == -1).all()
    assert (labels[members] >= 0).all()
    assert sorted(labels[members].unique().tolist()) == [0, 1, 2, 3, 4]

    stats = labeler.last_stats
    assert stats['num_samples'] == 63
    assert stats['num_clusters'] == 5
    assert stats['num_outliers'] == 3
    for stage in ('knn', 'encoding', 'jaccard', 'dbscan', 'total'):
        assert stats[f'time_{stage}'] >= 0
    assert stats['time_total'] >= stats['time_dbscan']


def test_cameras_are_accepted_and_ignored():
    feats, _ = planted_clusters(seed=1)
    labeler = DBSCANLabeler()
    camids = torch.arange(len(feats)) % 3
    assert torch.equal(labeler(feats, camids), labeler(feats))
    with pytest.raises(ValueError, match='camids'):
        labeler(feats, camids[:-1])


def test_everything_noise_when_no_core_point():
    feats, _ = planted_clusters(seed=2)
    labeler = DBSCANLabeler(min_samples=len(feats) + 1)
    labels = labeler(feats)
    assert (labels == -1).all()
    assert labeler.last_stats['num_clusters'] == 0
    assert labeler.last_stats['num_outliers'] == len(feats)


def test_tiny_set_clamps_k1():
    feats, truth = planted_clusters(
        num_clusters=2, per_cluster=5, num_outliers=0, seed=3)
    labels = DBSCANLabeler(k1=30, k2=6, min_samples=3)(feats)
    assert adjusted_rand_score(truth.numpy(), labels.numpy()) == 1.0


def test_built_from_registry():
    labeler = PSEUDO_LABELERS.build(
        dict(type='DBSCANLabeler', k1=20, k2=4, eps=0.5, knn_backend='torch'))
    assert isinstance(labeler, DBSCANLabeler)
    assert isinstance(labeler, BaseLabeler)
    assert (labeler.k1, labeler.k2, labeler.eps) == (20, 4, 0.5)


def test_invalid_k():
    with pytest.raises(ValueError):
        DBSCANLabeler(k1=4, k2=6)


def test_relabel_contiguous():
    labels = np.array([5, -1, 2, 5, 9, -3])
    assert relabel_contiguous(labels).tolist() == [1, -1, 0, 1, 2, -1]
    assert relabel_contiguous(np.array([-1, -1])).tolist() == [-1, -1]


def test_base_labeler_relabels_and_counts():

    class Halves(BaseLabeler):

        def label(self, features, camids):
            out = np.full(len(features), 7)
            out[::2] = 3
            out[0] = -1
            return out

    labeler = Halves()
    labels = labeler(torch.ones(6, 2))
    assert labels.tolist() == [-1, 1, 0, 1, 0, 1]
    assert labeler.last_stats['num_clusters'] == 2
    assert labeler.last_stats['num_outliers'] == 1


def test_defaults_reproduce_cluster_contrast_labels():
    # Cluster-Contrast: DBSCAN(eps=0.6, min_samples=4, metric='precomputed')
    # on compute_jaccard_distance(features, k1=30, k2=6), read densely.
    feats = noisy_blobs(2)
    expected = DBSCAN(
        eps=0.6, min_samples=4, metric='precomputed').fit_predict(
            dense_jaccard(feats, k1=30, k2=6))
    assert expected.max() >= 5 and (expected == -1).sum() >= 3
    assert DBSCANLabeler()(feats).tolist() == expected.tolist()


@pytest.mark.parametrize('seed', [0, 1])
def test_sparse_labels_equal_dense_reference(seed):
    feats = noisy_blobs(seed)
    dense = DBSCANLabeler(sparse=False)(feats)  # Cluster-Contrast defaults
    assert dense.max() >= 5 and (dense == -1).sum() >= 3
    sparse = DBSCANLabeler()
    assert torch.equal(sparse(feats), dense)
    # The graph holds only pairs within eps: far fewer than N ** 2.
    assert sparse.last_stats['graph_nnz'] < 0.2 * len(feats)**2
    chunked = DBSCANLabeler(max_triples=64)
    assert torch.equal(chunked(feats), dense)


def test_float16_labels_match_on_clear_clusters():
    feats, truth = planted_clusters(seed=4)
    labels = DBSCANLabeler(dtype='float16')(feats)
    assert torch.equal(labels, DBSCANLabeler()(feats))


def test_stage_time_and_memory_are_recorded():
    labeler = DBSCANLabeler()
    labeler(planted_clusters(seed=5)[0])
    stats = labeler.last_stats
    for stage in ('knn', 'encoding', 'jaccard', 'dbscan'):
        assert stats[f'time_{stage}'] >= 0
        assert stats[f'peak_mem_{stage}'] > 10  # MiB; a Python process
    assert stats['peak_mem_total'] == max(
        stats[f'peak_mem_{s}'] for s in ('knn', 'encoding', 'jaccard',
                                         'dbscan'))


def test_progress_bars_cover_each_stage(capsys):
    DBSCANLabeler(progress=True)(planted_clusters(seed=6)[0])
    err = capsys.readouterr().err
    for stage in ('knn', 'encoding', 'jaccard', 'dbscan'):
        assert stage in err


@pytest.mark.parametrize('kwargs', [
    dict(eps=1.0),
    dict(eps=0.0),
    dict(sparse=False, dtype='float16'),
])
def test_invalid_options(kwargs):
    with pytest.raises(ValueError):
        DBSCANLabeler(**kwargs)
    if kwargs.get('eps') == 1.0:
        DBSCANLabeler(sparse=False, eps=1.0)  # the dense path accepts it


def test_across_ranks_without_a_process_group_labels_alone():
    feats, _ = planted_clusters(seed=0)
    labeler = DBSCANLabeler(k1=10, k2=4, min_samples=3, knn_backend='torch')
    assert labeler.shards_across_ranks
    alone = labeler(feats)
    assert torch.equal(labeler(feats, across_ranks=True), alone)
    assert not labeler.splitting_over_ranks
    # The dense reference and sharded=False stay on one rank.
    assert not DBSCANLabeler(sparse=False).shards_across_ranks
    assert not DBSCANLabeler(sharded=False).shards_across_ranks


def test_across_ranks_is_refused_by_a_labeler_that_cannot_split():
    from mmreid_unsup.pseudo_labels import KMeansLabeler
    labeler = KMeansLabeler(num_clusters=2)
    assert not labeler.shards_across_ranks
    with pytest.raises(ValueError, match='cannot split its work over ranks'):
        labeler(torch.eye(4), across_ranks=True)
