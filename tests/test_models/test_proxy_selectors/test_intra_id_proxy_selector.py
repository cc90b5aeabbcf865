import math

import torch
import torch.nn.functional as F

from mmreid_unsup.models import IntraIDProxySelector
from mmreid_unsup.registry import MODELS


def _at(*degrees):
    """Unit vectors in the plane at the given angles (degrees)."""
    return torch.tensor(
        [[math.cos(math.radians(d)),
          math.sin(math.radians(d))] for d in degrees])


def _brute_force(features, labels):
    """argmin over each cluster of the mean similarity to the others."""
    chosen = []
    for k in range(int(labels.max()) + 1):
        members = torch.nonzero(labels == k).flatten().tolist()
        if len(members) == 1:
            chosen.append(members[0])
            continue
        means = [
            sum(float(features[i] @ features[j])
                for j in members if j != i) / (len(members) - 1)
            for i in members
        ]
        chosen.append(members[min(range(len(members)), key=means.__getitem__)])
    return chosen


def test_picks_the_member_least_like_its_cluster():
    selector = MODELS.build(dict(type='IntraIDProxySelector'))
    # Cluster 0 sits near 0 degrees with one member out at 60; cluster 1
    # near 180 with one member at 140; the outlier (at 100) is ignored.
    features = _at(0, 10, 20, 60, 180, 185, 140, 100)
    labels = torch.tensor([0, 0, 0, 0, 1, 1, 1, -1])
    assert selector(features, labels).tolist() == [3, 6]


def test_singleton_cluster_is_its_own_proxy():
    features = _at(0, 30, 40, 90)
    labels = torch.tensor([0, 0, 0, 1])
    assert IntraIDProxySelector()(features, labels).tolist() == [0, 3]


def test_ties_go_to_the_first_member():
    # Two members equally far from their centroid (exactly, in float too).
    features = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    labels = torch.tensor([0, 0, 1])
    assert IntraIDProxySelector()(features, labels).tolist() == [0, 2]


def test_matches_brute_force_on_random_clusters():
    torch.manual_seed(0)
    features = F.normalize(torch.randn(60, 8), dim=1)
    labels = torch.randint(-1, 6, (60, ))
    labels[:6] = torch.arange(6)  # every cluster has a member
    selected = IntraIDProxySelector()(features, labels)
    assert selected.tolist() == _brute_force(features, labels)
    assert (labels[selected] == torch.arange(6)).all()


def test_same_members_as_the_least_similar_to_the_centroid():
    torch.manual_seed(1)
    features = F.normalize(torch.randn(40, 4), dim=1)
    labels = torch.arange(40) % 5
    centroids = F.normalize(
        torch.zeros(5, 4).index_add_(0, labels, features), dim=1)
    to_centroid = (features * centroids[labels]).sum(dim=1)
    expected = [
        int(
            torch.nonzero(
                labels == k).flatten()[to_centroid[labels == k].argmin()])
        for k in range(5)
    ]
    assert IntraIDProxySelector()(features, labels).tolist() == expected


def test_batch_rule_is_least_similar_to_the_centroid_estimate():
    selector = IntraIDProxySelector()
    proxies = _at(0, 90)
    centroids = _at(30, 80)
    feats = _at(10, 50, 90, 30, 70)
    labels = torch.tensor([0, 0, 1, -1, 1])
    rows, clusters = selector.select_in_batch(feats, labels, proxies,
                                              centroids)
    # Cluster 0: 10 and 50 are both 20 degrees from the centroid estimate
    # at 30 -> the first, row 0 (against the proxy at 0 it would be 50).
    # Cluster 1: 90 is 10 from 80, 70 is 10 too -> row 2 (the proxy rule
    # would take 70, row 4).
    assert clusters.tolist() == [0, 1]
    assert rows.tolist() == [0, 2]


def test_refresh_and_batch_select_by_the_same_rule():
    # Cluster 0: -60, 0, 10, 20 degrees; its centroid is near -6 degrees, so
    # the member least like it is -60 (the refresh's proxy). The member
    # least like *that proxy* would be 20: the two old rules disagree.
    features = _at(-60, 0, 10, 20, 180, 175, 120)
    labels = torch.tensor([0, 0, 0, 0, 1, 1, 1])
    selector = IntraIDProxySelector()
    refresh = selector(features, labels)
    assert refresh.tolist() == [0, 6]
    centroids = F.normalize(
        torch.zeros(2, 2).index_add_(0, labels, features), dim=1)
    rows, _ = selector.select_in_batch(features, labels, features[refresh],
                                       centroids)
    assert rows.tolist() == refresh.tolist()
    # The same on random clusters.
    torch.manual_seed(2)
    features = F.normalize(torch.randn(50, 6), dim=1)
    labels = torch.arange(50) % 7
    refresh = selector(features, labels)
    centroids = F.normalize(
        torch.zeros(7, 6).index_add_(0, labels, features), dim=1)
    rows, _ = selector.select_in_batch(features, labels, features[refresh],
                                       centroids)
    assert rows.tolist() == refresh.tolist()
