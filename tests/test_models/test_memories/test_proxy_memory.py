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


def _memory(selector, bank=None, **kwargs):
    memory = ProxyMemory(feat_dim=2, selector=selector, **kwargs)
    if bank is not None:
        memory.bank = bank.clone()
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


def test_hard_intra_update_uses_the_member_least_like_its_proxy():
    m = 0.1
    memory = _memory(INTRA, _at(0, 90), momentum=m)
    feats = _at(10, 50, 80, 90)
    memory(feats, torch.tensor([0, 0, 1, 1]))
    memory.apply_pending_update()
    # Cluster 0: 50 degrees is least like the proxy at 0; cluster 1: 80.
    torch.testing.assert_close(memory.bank[0], _moved(_at(0)[0], feats[1], m))
    torch.testing.assert_close(memory.bank[1], _moved(_at(90)[0], feats[2], m))


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
    assert set(source.state_dict()) == {'bank'}


def test_invalid_arguments():
    with pytest.raises(ValueError, match='update_rule'):
        _memory(INTRA, update_rule='median')
    with pytest.raises(KeyError):
        _memory(dict(type='NoSuchSelector'))
    assert isinstance(_memory(INTRA).selector, IntraIDProxySelector)
