import math

import pytest
import torch
import torch.nn.functional as F

from mmreid_unsup.models import BaseMemory, ClusterMemory
from mmreid_unsup.registry import MODELS


def _memory(bank, **kwargs):
    memory = ClusterMemory(feat_dim=len(bank[0]), **kwargs)
    memory.bank = torch.tensor(bank, dtype=torch.float32)
    return memory


def test_init_from_features_gives_normalised_centroids():
    memory = MODELS.build(dict(type='ClusterMemory', feat_dim=2))
    assert isinstance(memory, BaseMemory)
    assert memory.bank.shape == (0, 2)
    features = torch.tensor([[1.0, 0.0], [0.0, 1.0], [3.0, 4.0], [9.0, 9.0]])
    labels = torch.tensor([0, 0, 1, -1])
    memory.init_from_features(features, labels)
    s = 1 / math.sqrt(2)
    expected = torch.tensor([[s, s], [0.6, 0.8]])
    torch.testing.assert_close(memory.bank, expected)
    assert memory.num_clusters == 2


def test_init_with_only_outliers_gives_empty_bank():
    memory = ClusterMemory(feat_dim=2)
    memory.init_from_features(torch.randn(3, 2), torch.full((3, ), -1))
    assert memory.bank.shape == (0, 2)


def test_init_rejects_label_gaps_and_bad_shapes():
    memory = ClusterMemory(feat_dim=2)
    with pytest.raises(ValueError, match='no member'):
        memory.init_from_features(torch.randn(2, 2), torch.tensor([0, 2]))
    with pytest.raises(ValueError):
        memory.init_from_features(torch.randn(2, 3), torch.tensor([0, 1]))


def test_forward_similarities_without_updating():
    memory = _memory([[1.0, 0.0], [0.0, 1.0]])
    feats = torch.tensor([[3.0, 4.0]], requires_grad=True)
    sims = memory(feats, torch.tensor([1]))
    torch.testing.assert_close(sims, torch.tensor([[0.6, 0.8]]))
    # The update waits for apply_pending_update.
    torch.testing.assert_close(memory.bank, torch.eye(2))
    assert memory.has_pending_update
    sims.sum().backward()
    assert feats.grad is not None


def test_forward_on_empty_memory_or_bad_label_raises():
    with pytest.raises(RuntimeError, match='init_from_features'):
        ClusterMemory(feat_dim=2)(torch.randn(1, 2), torch.tensor([0]))
    with pytest.raises(ValueError, match='out of range'):
        _memory([[1.0, 0.0]])(torch.randn(1, 2), torch.tensor([1]))


def test_mean_update_is_sequential_in_batch_order():
    m = 0.1
    f1, f2 = [0.0, 1.0], [1.0, 0.0]
    memory = _memory([[1.0, 0.0]], momentum=m)
    memory(torch.tensor([f1, f2]), torch.tensor([0, 0]))
    memory.apply_pending_update()

    # c1 = normalize(0.1 * [1, 0] + 0.9 * [0, 1]) = [0.1, 0.9] / sqrt(0.82)
    n1 = math.sqrt(0.1**2 + 0.9**2)
    c1 = [0.1 / n1, 0.9 / n1]
    # c2 = normalize(0.1 * c1 + 0.9 * [1, 0])
    c2 = [0.1 * c1[0] + 0.9, 0.1 * c1[1]]
    n2 = math.hypot(*c2)
    expected = torch.tensor([[c2[0] / n2, c2[1] / n2]])
    torch.testing.assert_close(memory.bank, expected)

    reversed_order = _memory([[1.0, 0.0]], momentum=m)
    reversed_order(torch.tensor([f2, f1]), torch.tensor([0, 0]))
    reversed_order.apply_pending_update()
    assert not torch.allclose(reversed_order.bank, memory.bank, atol=1e-3)


def test_outliers_and_other_clusters_untouched():
    memory = _memory([[1.0, 0.0], [0.0, 1.0]])
    memory(torch.tensor([[0.0, 1.0]]), torch.tensor([-1]))
    memory.apply_pending_update()
    torch.testing.assert_close(memory.bank, torch.eye(2))


def test_hard_update_uses_least_similar_member_only():
    m = 0.1
    memory = _memory([[1.0, 0.0], [0.0, 1.0]], momentum=m, update_rule='hard')
    feats = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8], [0.0, 1.0]])
    labels = torch.tensor([0, 0, 0, 1])
    memory(feats, labels)
    memory.apply_pending_update()
    # Cluster 0: similarities 1, 0, 0.6 -> the member [0, 1] is used alone.
    expected0 = F.normalize(torch.tensor([m, 1 - m]), dim=0)
    torch.testing.assert_close(memory.bank[0], expected0)
    # Cluster 1: its single member equals the centroid.
    torch.testing.assert_close(memory.bank[1], torch.tensor([0.0, 1.0]))


def test_apply_is_noop_without_pending_and_clears_after():
    memory = _memory([[1.0, 0.0]])
    memory.apply_pending_update()
    torch.testing.assert_close(memory.bank, torch.tensor([[1.0, 0.0]]))

    memory(torch.tensor([[0.0, 1.0]]), torch.tensor([0]))
    memory.apply_pending_update()
    assert not memory.has_pending_update
    after_first = memory.bank.clone()
    memory.apply_pending_update()
    torch.testing.assert_close(memory.bank, after_first)


def test_pending_batches_accumulate():
    memory = _memory([[1.0, 0.0]])
    memory(torch.tensor([[0.0, 1.0]]), torch.tensor([0]))
    memory(torch.tensor([[1.0, 0.0]]), torch.tensor([0]))
    together = _memory([[1.0, 0.0]])
    together(torch.tensor([[0.0, 1.0], [1.0, 0.0]]), torch.tensor([0, 0]))
    memory.apply_pending_update()
    together.apply_pending_update()
    torch.testing.assert_close(memory.bank, together.bank)


def test_eval_mode_records_nothing():
    memory = _memory([[1.0, 0.0]]).eval()
    memory(torch.tensor([[0.0, 1.0]]), torch.tensor([0]))
    assert not memory.has_pending_update


def test_reinit_drops_stale_pending_update():
    memory = _memory([[1.0, 0.0], [0.0, 1.0]])
    memory(torch.tensor([[1.0, 1.0]]), torch.tensor([1]))
    memory.init_from_features(torch.tensor([[1.0, 0.0]]), torch.tensor([0]))
    assert not memory.has_pending_update


def test_bank_reloads_across_sizes():
    source = ClusterMemory(feat_dim=4)
    source.init_from_features(torch.randn(6, 4), torch.tensor([0, 1, 2] * 2))
    target = ClusterMemory(feat_dim=4)
    target.load_state_dict(source.state_dict())
    torch.testing.assert_close(target.bank, source.bank)
    target.load_state_dict(ClusterMemory(feat_dim=4).state_dict())
    assert target.num_clusters == 0


def test_invalid_arguments():
    with pytest.raises(ValueError):
        ClusterMemory(feat_dim=2, momentum=1.5)
    with pytest.raises(ValueError):
        ClusterMemory(feat_dim=2, update_rule='median')
