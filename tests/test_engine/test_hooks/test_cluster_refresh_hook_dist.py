"""Under DDP (2 gloo ranks) the refresh hook runs a labeler that splits its
work on every rank and any other labeler on rank 0 only; both ranks get
rank 0's labels, those of a single-process run."""
import pytest
import torch
import torch.nn.functional as F
from gloo_ranks import run_on_gloo_ranks
from jaccard_reference import clustered_features

from mmreid_unsup.engine.hooks import ClusterRefreshHook

pytestmark = pytest.mark.dist

LABELERS = {
    'dbscan': dict(type='DBSCANLabeler', k1=12, k2=4, knn_backend='torch'),
    'dbscan_unsharded': dict(
        type='DBSCANLabeler', k1=12, k2=4, knn_backend='torch', sharded=False),
    'kmeans': dict(type='KMeansLabeler', num_clusters=20, seed=0),
}


def _features():
    gen = torch.Generator().manual_seed(7)
    lone = F.normalize(torch.randn(11, 64, generator=gen), dim=1)
    return torch.cat([clustered_features(30, 7, 64, 0.6, seed=1), lone])


def _worker(rank):
    feats = _features()
    camids = torch.arange(len(feats)) % 3
    verdicts = {}
    for name, cfg in LABELERS.items():
        hook = ClusterRefreshHook(labeler=dict(cfg), progress=False)
        labels, seconds = hook.label_features(feats, camids)
        verdicts[name] = dict(
            labels=labels.tolist(),
            ran_here=seconds is not None,
            split=getattr(hook.labeler, 'splitting_over_ranks', False))
    return verdicts


def test_sharding_labelers_run_on_every_rank_others_on_rank_0():
    ranks = run_on_gloo_ranks(_worker)
    feats = _features()
    camids = torch.arange(len(feats)) % 3
    for name, cfg in LABELERS.items():
        alone = ClusterRefreshHook(labeler=dict(cfg), progress=False)
        expected, _ = alone.label_features(feats, camids)
        assert ranks[0][name]['labels'] == expected.tolist(), name
        assert ranks[1][name]['labels'] == expected.tolist(), name
    assert [ranks[r]['dbscan']['ran_here'] for r in (0, 1)] == [True, True]
    assert [ranks[r]['dbscan']['split'] for r in (0, 1)] == [True, True]
    for name in ('dbscan_unsharded', 'kmeans'):
        assert [ranks[r][name]['ran_here'] for r in (0, 1)] == [True, False]
        assert not ranks[0][name]['split']
