import math

import pytest
import torch
import torch.nn.functional as F

from mmreid_unsup.models import (ClusterMemory, InterIDProxySelector,
                                 IntraIDProxySelector, ProxyMemory)
from mmreid_unsup.registry import MODELS

INTER = dict(type='InterIDProxySelector')
INTRA = dict(type='IntraIDProxySelector')


def _at(*degrees):
    """Unit vectors in the plane at the given angles (degrees)."""
    return torch.tensor(
        [[math.cos(math.radians(d)),
          math.sin(math.radians(d))] for d in degrees])


def _memory(selector, bank=None, centroids=None, **kwargs):
    memory = ProxyMemory(feat_dim=2, selector=selector, **kwargs)
    if bank is not None:
        memory.bank = bank.clone()
        memory.centroids = (bank if centroids is None else centroids).clone()
    return memory


def test_builds_with_its_selector_and_hard_rule():
    memory = MODELS.build(dict(type='ProxyMemory', feat_dim=2, selector=INTER))
    assert isinstance(memory, ClusterMemory)
    assert isinstance(memory.selector, InterIDProxySelector)
    assert memory.update_rule == 'hard' and memory.momentum == 0.1
    assert 'InterIDProxySelector' in repr(memory)


@pytest.mark.parametrize('selector,expected', [(INTER, [0, 5]),
                                               (INTRA, [2, 3])])
def test_init_sets_bank_to_the_selected_members(selector, expected):
    # Cluster 0 near 0 degrees, cluster 1 near 90, an outlier at 45 (scaled
    # by 2 to check the bank is normalised).
    features = _at(-10, 0, 30, 60, 100, 120, 45)
    features[6] *= 2
    labels = torch.tensor([0, 0, 0, 1, 1, 1, -1])
    memory = _memory(selector)
    memory.init_from_features(features, labels)
    assert memory.proxy_indices.tolist() == expected
    torch.testing.assert_close(memory.bank, features[expected])
    assert memory.num_clusters == 2


def test_init_drops_pending_and_handles_only_outliers():
    memory = _memory(INTRA, _at(0, 90))
    memory(_at(10), torch.tensor([0]))
    memory.init_from_features(_at(0, 90), torch.tensor([-1, -1]))
    assert not memory.has_pending_update
    assert memory.bank.shape == (0, 2)


def test_init_rejects_label_gaps_and_bad_shapes():
    memory = _memory(INTRA)
    with pytest.raises(ValueError, match='no member'):
        memory.init_from_features(_at(0, 90), torch.tensor([0, 2]))
    with pytest.raises(ValueError, match='expected features'):
        memory.init_from_features(torch.randn(2, 3), torch.tensor([0, 1]))


def test_forward_is_cosine_similarity_to_the_proxies():
    memory = _memory(INTRA, _at(0, 90))
    feats = torch.tensor([[3.0, 4.0]], requires_grad=True)
    sims = memory(feats, torch.tensor([1]))
    torch.testing.assert_close(sims, torch.tensor([[0.6, 0.8]]))
    torch.testing.assert_close(memory.bank, _at(0, 90))
    sims.sum().backward()
    assert feats.grad is not None


def _moved(proxy, feat, m):
    return F.normalize(m * proxy + (1 - m) * feat, dim=0)


def test_init_sets_the_centroids_to_the_clusters_normalised_means():
    features = _at(-10, 0, 30, 60, 100, 120, 45)
    labels = torch.tensor([0, 0, 0, 1, 1, 1, -1])
    memory = _memory(INTRA)
    memory.init_from_features(features, labels)
    expected = torch.stack(
        [F.normalize(features[labels == k].sum(0), dim=0) for k in (0, 1)])
    torch.testing.assert_close(memory.centroids, expected)


def test_centroid_estimates_move_towards_the_batch_means():
    mc = 0.5
    memory = _memory(INTRA, _at(0, 90), centroids=_at(0, 90),
                     centroid_momentum=mc)
    feats = _at(10, 50, 80, 60)
    memory(feats, torch.tensor([0, 0, 1, -1]))
    memory.apply_pending_update()
    # Cluster 0: towards the mean of 10 and 50 (its direction: 30 degrees);
    # cluster 1 towards 80; the outlier at 60 moves nothing.
    torch.testing.assert_close(memory.centroids[0],
                               _moved(_at(0)[0], _at(30)[0], mc))
    torch.testing.assert_close(memory.centroids[1],
                               _moved(_at(90)[0], _at(80)[0], mc))


def test_hard_intra_update_uses_the_member_least_like_the_centroid():
    m, mc = 0.1, 0.5
    # Proxies at -60 and 180, centroid estimates at -5 and 150.
    memory = _memory(INTRA, _at(-60, 180), centroids=_at(-5, 150),
                     momentum=m, centroid_momentum=mc)
    feats = _at(-45, 0, 25, 170, 120)
    memory(feats, torch.tensor([0, 0, 0, 1, 1]))
    memory.apply_pending_update()
    # Cluster 0: the estimate moves to about -6 degrees; -45 is farthest
    # from it (25 would be farthest from the proxy at -60). Cluster 1: the
    # estimate moves to 147.5; 170 is 22.5 away, 120 is 27.5 -> 120.
    centroids = memory.centroids
    torch.testing.assert_close(
        memory.bank[0], _moved(_at(-60)[0], feats[0], m))
    torch.testing.assert_close(
        memory.bank[1], _moved(_at(180)[0], feats[4], m))
    assert float(feats[0] @ centroids[0]) < float(feats[2] @ centroids[0])


@pytest.mark.parametrize('selector', [INTRA, dict(INTER, relation='centroid')])
def test_the_refresh_s_proxies_are_kept_by_its_own_features(selector):
    # One rule at the refresh and in the batch: the clustering features fed
    # back as a batch right after the refresh select the same members, so
    # the proxies do not move. (Under the old intra batch rule, "least like
    # the current proxy", cluster 0's proxy at -60 moved towards 20.)
    features = _at(-60, 0, 10, 20, 180, 175, 120, 90, 95, 100)
    labels = torch.tensor([0, 0, 0, 0, 1, 1, 1, 2, 2, 2])
    memory = _memory(selector)
    memory.init_from_features(features, labels)
    proxies, centroids = memory.bank.clone(), memory.centroids.clone()
    memory(features, labels)
    memory.apply_pending_update()
    torch.testing.assert_close(memory.centroids, centroids)
    torch.testing.assert_close(memory.bank, proxies)


def test_hard_inter_update_uses_the_member_farthest_from_other_proxies():
    m = 0.1
    memory = _memory(INTER, _at(0, 90, 180), momentum=m)
    feats = _at(-20, 30, 100, 150, 60)
    memory(feats, torch.tensor([0, 0, 1, 1, -1]))
    memory.apply_pending_update()
    # Cluster 0: -20 (110 degrees from the proxy at 90); cluster 1: 100
    # (80 degrees from the proxy at 180); cluster 2 is absent, the outlier
    # at 60 moves nothing.
    torch.testing.assert_close(memory.bank[0], _moved(_at(0)[0], feats[0], m))
    torch.testing.assert_close(memory.bank[1], _moved(_at(90)[0], feats[2], m))
    torch.testing.assert_close(memory.bank[2], _at(180)[0])


def test_mean_rule_applies_every_sample_like_cluster_memory():
    feats = _at(10, 50, 80)
    labels = torch.tensor([0, 0, 1])
    proxy = _memory(INTER, _at(0, 90), update_rule='mean')
    centroid = ClusterMemory(feat_dim=2)
    centroid.bank = _at(0, 90)
    for memory in (proxy, centroid):
        memory(feats, labels)
        memory.apply_pending_update()
    torch.testing.assert_close(proxy.bank, centroid.bank)


def test_bank_reloads_across_sizes():
    source = _memory(INTRA)
    source.init_from_features(
        F.normalize(torch.randn(9, 2), dim=1),
        torch.arange(9) % 3)
    target = _memory(INTRA)
    target.load_state_dict(source.state_dict())
    torch.testing.assert_close(target.bank, source.bank)
    torch.testing.assert_close(target.centroids, source.centroids)
    assert set(source.state_dict()) == {'bank', 'centroids'}


def test_a_checkpoint_without_centroids_still_loads():
    # Written before the centroid estimates existed: they start from the
    # proxies (the next refresh sets the exact centroids).
    target = _memory(INTRA)
    target.load_state_dict({'bank': _at(0, 90)})
    torch.testing.assert_close(target.centroids, _at(0, 90))


def test_invalid_arguments():
    with pytest.raises(ValueError, match='update_rule'):
        _memory(INTRA, update_rule='median')
    with pytest.raises(ValueError, match='centroid_momentum'):
        _memory(INTRA, centroid_momentum=1.5)
    with pytest.raises(KeyError):
        _memory(dict(type='NoSuchSelector'))
    assert isinstance(_memory(INTRA).selector, IntraIDProxySelector)
