import torch
import torch.nn.functional as F

from mmreid_unsup.models import ClusterMemory, InfoNCELoss
from mmreid_unsup.registry import MODELS


def _head():
    head = MODELS.build(
        dict(
            type='ClusterContrastHead',
            memory=dict(type='ClusterMemory', feat_dim=4),
            loss=dict(type='InfoNCELoss', temperature=0.1)))
    head.memory.init_from_features(
        torch.randn(6, 4), torch.tensor([0, 0, 1, 1, 2, 2]))
    return head


def test_builds_memory_and_loss():
    head = _head()
    assert isinstance(head.memory, ClusterMemory)
    assert isinstance(head.loss_module, InfoNCELoss)


def test_loss_is_infonce_over_memory_similarities():
    head = _head()
    feats = F.normalize(torch.randn(4, 4), dim=1)
    labels = torch.tensor([0, 1, 2, -1])
    losses = head.loss(feats, labels)
    assert set(losses) == {'loss_contrast'}
    expected = InfoNCELoss(temperature=0.1)(feats @ head.memory.bank.t(),
                                            labels)
    torch.testing.assert_close(losses['loss_contrast'], expected)
    assert head.memory.has_pending_update


def test_default_loss_is_infonce_005():
    head = MODELS.build(
        dict(
            type='ClusterContrastHead',
            memory=dict(type='ClusterMemory', feat_dim=4)))
    assert head.loss_module.temperature == 0.05
