import math

import pytest
import torch
import torch.nn.functional as F

from mmreid_unsup.models import InterIDProxySelector
from mmreid_unsup.registry import MODELS


def _at(*degrees):
    """Unit vectors in the plane at the given angles (degrees)."""
    return torch.tensor(
        [[math.cos(math.radians(d)),
          math.sin(math.radians(d))] for d in degrees])


def _brute_force(features, labels):
    """argmin over each cluster of the max similarity to another cluster's
    samples (outliers ignored)."""
    chosen = []
    for k in range(int(labels.max()) + 1):
        members = torch.nonzero(labels == k).flatten().tolist()
        others = torch.nonzero((labels >= 0) & (labels != k)).flatten()
        nearest = [
            float((features[others] @ features[i]).max()) for i in members
        ]
        chosen.append(members[min(
            range(len(members)), key=nearest.__getitem__)])
    return chosen


def test_picks_the_member_farthest_from_other_clusters():
    selector = MODELS.build(dict(type='InterIDProxySelector'))
    # Cluster 0 near 0 degrees, cluster 1 near 90: the proxies are the
    # members on the far sides, -10 and 120 (nearest other samples 90 and
    # 100 degrees away).
    features = _at(-10, 0, 20, 80, 100, 120)
    labels = torch.tensor([0, 0, 0, 1, 1, 1])
    assert selector(features, labels).tolist() == [0, 5]


def test_sample_and_centroid_relations_differ_on_a_stray_member():
    # Cluster 1 (60, 70, 80) has a stray member at -30, next to cluster 0
    # (0, 20). Nearest other *sample*: 0 is 30 degrees from the stray, 20 is
    # 40 from 60 -> 20 (index 1). Nearest other *centroid*: cluster 1's
    # centroid is at about 50.6 degrees -> 0 (index 0) is farther.
    features = _at(0, 20, 60, 70, 80, -30)
    labels = torch.tensor([0, 0, 1, 1, 1, 1])
    sample = InterIDProxySelector(relation='sample')(features, labels)
    centroid = InterIDProxySelector(relation='centroid')(features, labels)
    assert sample.tolist()[0] == 1
    assert centroid.tolist()[0] == 0


def test_outliers_are_neither_selected_nor_compared_with():
    features = _at(-10, 0, 20, 80, 100, 120, -5, 125)
    labels = torch.tensor([0, 0, 0, 1, 1, 1, -1, -1])
    # The outliers sit next to the would-be proxies and change nothing.
    for relation in ('sample', 'centroid'):
        selector = InterIDProxySelector(relation=relation)
        assert selector(features, labels).tolist() == [0, 5]


def test_single_cluster_takes_its_first_member():
    features = _at(0, 30, 60)
    labels = torch.tensor([-1, 0, 0])
    assert InterIDProxySelector()(features, labels).tolist() == [1]


@pytest.mark.parametrize('chunk_size', [1, 7, 4096])
def test_matches_brute_force_with_any_chunk_size(chunk_size):
    torch.manual_seed(0)
    features = F.normalize(torch.randn(50, 8), dim=1)
    labels = torch.randint(-1, 5, (50, ))
    labels[:5] = torch.arange(5)
    selector = InterIDProxySelector(chunk_size=chunk_size)
    assert selector(features,
                    labels).tolist() == _brute_force(features, labels)


def test_centroid_relation_uses_normalised_centroids():
    torch.manual_seed(2)
    features = F.normalize(torch.randn(30, 4), dim=1)
    labels = torch.arange(30) % 3
    centroids = F.normalize(
        torch.zeros(3, 4).index_add_(0, labels, features), dim=1)
    sims = features @ centroids.t()
    sims[torch.arange(30), labels] = float('-inf')
    nearest = sims.max(dim=1).values
    expected = [
        int(
            torch.nonzero(
                labels == k).flatten()[nearest[labels == k].argmin()])
        for k in range(3)
    ]
    selector = InterIDProxySelector(relation='centroid', chunk_size=4)
    assert selector(features, labels).tolist() == expected


def test_batch_rule_is_farthest_from_the_other_proxies():
    selector = InterIDProxySelector()
    proxies = _at(0, 90, 180)
    feats = _at(-20, 30, 100, 150, 60)
    labels = torch.tensor([0, 0, 1, 1, -1])
    # The centroid estimates play no part in the 'sample' relation.
    rows, clusters = selector.select_in_batch(feats, labels, proxies,
                                              _at(45, 45, 45))
    # Cluster 0: -20 is 110 degrees from the nearest other proxy (90), 30 is
    # 60 -> row 0. Cluster 1: 100 is 80 from 180, 150 is 30 -> row 2.
    assert clusters.tolist() == [0, 1]
    assert rows.tolist() == [0, 2]


def test_centroid_relation_uses_the_other_centroids_in_a_batch_too():
    selector = InterIDProxySelector(relation='centroid')
    feats = _at(-20, 30, 100, 150)
    labels = torch.tensor([0, 0, 1, 1])
    # Proxies that would pick rows 0 and 2; centroids at 0 and 60 degrees:
    # cluster 0's -20 is 80 from the other centroid, 30 only 30 -> row 0;
    # cluster 1's 100 is 100 from centroid 0, 150 is 150 -> row 3.
    rows, _ = selector.select_in_batch(feats, labels, _at(0, 90), _at(0, 60))
    assert rows.tolist() == [0, 3]
    # Fed the refresh's features as a batch, with the refresh's centroids,
    # it picks the refresh's proxies.
    torch.manual_seed(0)
    features = F.normalize(torch.randn(30, 4), dim=1)
    labels = torch.arange(30) % 3
    refresh = selector(features, labels)
    centroids = F.normalize(
        torch.zeros(3, 4).index_add_(0, labels, features), dim=1)
    rows, _ = selector.select_in_batch(features, labels, features[refresh],
                                       centroids)
    assert rows.tolist() == refresh.tolist()


def test_invalid_arguments():
    with pytest.raises(ValueError, match='relation'):
        InterIDProxySelector(relation='mean')
    with pytest.raises(ValueError, match='chunk_size'):
        InterIDProxySelector(chunk_size=0)
