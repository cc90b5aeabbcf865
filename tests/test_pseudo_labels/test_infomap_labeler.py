"""InfomapLabeler partitions the kNN graph and marks small modules."""
import subprocess
import sys

import numpy as np
import pytest
import torch
from sklearn.metrics import adjusted_rand_score
from test_dbscan_labeler import planted_clusters

from mmreid_unsup.pseudo_labels import InfomapLabeler, knn_similarity_graph
from mmreid_unsup.registry import PSEUDO_LABELERS


def test_knn_similarity_graph():
    feats = torch.tensor([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-1.0, 0.0]])
    graph = knn_similarity_graph(feats, k=2, min_sim=0.5).toarray()
    # 0 <-> 1 (cos 0.8) and 1 <-> 2 (cos 0.6); 3's nearest (2, cos 0) is
    # below min_sim; symmetric, no self-loops.
    expected = np.zeros((4, 4), dtype=np.float32)
    expected[0, 1] = expected[1, 0] = 0.8
    expected[1, 2] = expected[2, 1] = 0.6
    np.testing.assert_allclose(graph, expected, atol=1e-6)


@pytest.mark.parametrize('seed', [0, 1])
def test_recovers_planted_clusters(seed):
    feats, truth = planted_clusters(num_outliers=0, seed=seed)
    labeler = InfomapLabeler(k=10, min_sim=0.5)
    labels = labeler(feats)
    assert labels.dtype == torch.int64
    assert adjusted_rand_score(truth.numpy(), labels.numpy()) == 1.0
    assert labeler.last_stats['num_clusters'] == 5
    assert labeler.last_stats['time_infomap'] >= 0


def test_isolated_and_small_modules_are_outliers():
    feats, truth = planted_clusters(num_clusters=3, per_cluster=8,
                                    num_outliers=0, seed=2)
    # Two far-away points that only link to each other form a module of 2.
    pair = torch.zeros(2, feats.size(1))
    pair[:, -1] = 1
    pair[1, -2] = 0.1
    lone = torch.zeros(1, feats.size(1))
    lone[0, -3] = 1
    feats = torch.cat([feats, pair, lone])
    labels = InfomapLabeler(k=5, min_sim=0.5, min_cluster_size=3)(feats)
    assert (labels[-3:] == -1).all()
    assert (labels[:-3] >= 0).all()
    labels = InfomapLabeler(k=5, min_sim=0.5, min_cluster_size=2)(feats)
    assert labels[-3] == labels[-2] >= 0 and labels[-1] == -1


def test_built_from_registry_and_validates():
    labeler = PSEUDO_LABELERS.build(
        dict(type='InfomapLabeler', k=8, min_sim=0.4, seed=3))
    assert isinstance(labeler, InfomapLabeler) and labeler.k == 8
    with pytest.raises(ValueError, match='seed'):
        InfomapLabeler(seed=0)
    with pytest.raises(ValueError, match='k must'):
        InfomapLabeler(k=1)


@pytest.mark.slow
def test_runs_in_a_fresh_process():
    # Guards the import order faiss -> infomap (the other order crashes the
    # interpreter with the pinned wheels): a user's process imports the
    # toolbox first and then clusters.
    code = ('import torch\n'
            'from mmreid_unsup.pseudo_labels import InfomapLabeler\n'
            'feats = torch.eye(4).repeat_interleave(5, dim=0)\n'
            'feats = feats + 0.01 * torch.randn(20, 4)\n'
            'print(int(InfomapLabeler(k=5)(feats).max()) + 1)\n')
    result = subprocess.run([sys.executable, '-c', code],
                            capture_output=True,
                            text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '4'
