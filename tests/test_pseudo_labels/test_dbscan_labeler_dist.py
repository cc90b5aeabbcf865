"""DBSCANLabeler called across 2 gloo ranks gives both ranks the labels of
a single-process run: odd sizes, a split kNN search, bad feature rows, a
single sample."""
import pytest
import torch
import torch.nn.functional as F
from gloo_ranks import run_on_gloo_ranks
from jaccard_reference import clustered_features

from mmreid_unsup.ops import knn_torch
from mmreid_unsup.pseudo_labels import DBSCANLabeler, sharded_knn

pytestmark = pytest.mark.dist


def _clusters_and_lone_points(num_clusters, per_cluster, num_lone, spread,
                              seed):
    """Blobs and lone points in 64 dimensions: clusters and outliers."""
    gen = torch.Generator().manual_seed(seed + 100)
    lone = F.normalize(torch.randn(num_lone, 64, generator=gen), dim=1)
    return torch.cat([
        clustered_features(num_clusters, per_cluster, 64, spread, seed), lone
    ])


def _odd():
    return _clusters_and_lone_points(40, 7, 21, 0.6, seed=0)  # 301


def _even():
    return _clusters_and_lone_points(24, 12, 12, 0.8, seed=3)  # 300


def _with_bad_rows():
    feats = _even()
    feats[[3, 150]] = float('nan')
    feats[77] = 0
    return feats


#: (name, features, kNN block or None for the default): a few hundred
#: samples of dimension 64, 301 being odd; 64-row blocks split the kNN
#: search itself over the ranks (one block otherwise: rank 0 searches).
CASES = [
    ('odd', _odd, None),
    ('odd_split_knn', _odd, 64),
    ('even_split_knn', _even, 64),
    ('bad_rows', _with_bad_rows, 64),
    ('single_sample', lambda: clustered_features(1, 1, 64, 0.1, seed=2),
     None),
]


def _worker(rank):
    results = {}
    for name, make_features, block in CASES:
        if block is not None:  # the same blocks in and out of the split
            knn_torch.SYMMETRIC_BLOCK = block
            sharded_knn.SYMMETRIC_BLOCK = block
        feats = make_features()
        labeler = DBSCANLabeler(k1=12, k2=4, eps=0.6, knn_backend='torch')
        alone = labeler(feats)
        split = labeler(feats, across_ranks=True)
        results[name] = dict(
            identical=torch.equal(alone, split),
            labels=split.tolist(),
            was_split=labeler.splitting_over_ranks,
            stages=sorted(k for k in labeler.last_stats
                          if k.startswith('time_')))
    return results


def test_labels_across_ranks_are_the_single_process_labels():
    ranks = run_on_gloo_ranks(_worker)
    for name, _, _ in CASES:
        assert ranks[0][name]['identical'], name
        assert ranks[1][name]['identical'], name
        assert ranks[0][name]['labels'] == ranks[1][name]['labels'], name
        assert ranks[0][name]['was_split'] and ranks[1][name]['was_split']
        assert ranks[1][name]['stages'] == [
            'time_dbscan', 'time_encoding', 'time_jaccard', 'time_knn',
            'time_total'
        ]
    # Not a trivial labelling: clusters and outliers.
    labels = torch.tensor(ranks[0]['odd']['labels'])
    assert labels.max() >= 30 and (labels == -1).sum() >= 5
    assert ranks[0]['single_sample']['labels'] == [-1]
    bad = ranks[0]['bad_rows']['labels']
    assert bad[3] == bad[150] == bad[77] == -1
