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
    features = _at(0, 30, 90)
    labels = torch.tensor([0, 0, 1])
    # Cluster 0's two members tie: the first is taken.
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


def test_batch_rule_is_least_similar_to_the_current_proxy():
    selector = IntraIDProxySelector()
    proxies = _at(0, 90)
    feats = _at(10, 50, 90, 30, 70)
    labels = torch.tensor([0, 0, 1, -1, 1])
    rows, clusters = selector.select_in_batch(feats, labels, proxies)
    # Cluster 0: 10 and 50 degrees from its proxy at 0 -> 50 (row 1).
    # Cluster 1: 90 and 70 against the proxy at 90 -> 70 (row 4).
    assert clusters.tolist() == [0, 1]
    assert rows.tolist() == [1, 4]
