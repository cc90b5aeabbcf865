import math

import pytest
import torch

from mmreid_unsup.models import ClusterMemory, InfoNCELoss, ProxyMemory
from mmreid_unsup.registry import MODELS


def _head(**kwargs):
    cfg = dict(type='GRACLHead', feat_dim=2)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def _set_banks(head, **banks):
    for name, bank in banks.items():
        head.memories[name].bank = torch.tensor(bank)


def test_default_branches_are_inter_and_intra_proxy_memories():
    head = _head()
    assert list(head.memories) == ['inter', 'intra']
    for name, selector in (('inter', 'InterIDProxySelector'),
                           ('intra', 'IntraIDProxySelector')):
        memory = head.memories[name]
        assert isinstance(memory, ProxyMemory) and memory.feat_dim == 2
        assert type(memory.selector).__name__ == selector
        assert memory.update_rule == 'hard' and memory.momentum == 0.1
        assert isinstance(head.losses[name], InfoNCELoss)
        assert head.losses[name].temperature == 0.05


def test_losses_equal_hand_computed_values():
    head = _head(
        centroid_memory=dict(type='ClusterMemory'),
        loss_inter=dict(type='InfoNCELoss', temperature=0.5),
        loss_intra=dict(type='InfoNCELoss', temperature=0.5, loss_weight=0.5),
        loss_centroid=dict(
            type='InfoNCELoss', temperature=1.0, loss_weight=2.0))
    _set_banks(
        head,
        inter=[[1.0, 0.0], [0.0, 1.0]],
        intra=[[0.6, 0.8], [0.8, 0.6]],
        centroid=[[0.0, 1.0], [1.0, 0.0]])
    feats = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    labels = torch.tensor([0, 0, -1])  # the outlier is ignored
    losses = head.loss(feats, labels)
    assert set(losses) == {'loss_inter', 'loss_intra', 'loss_centroid'}

    def nll(logits, label):
        return math.log(sum(math.exp(v) for v in logits)) - logits[label]

    # Similarities / temperature, positive = entry 0.
    inter = (nll([2.0, 0.0], 0) + nll([0.0, 2.0], 0)) / 2
    intra = 0.5 * (nll([1.2, 1.6], 0) + nll([1.6, 1.2], 0)) / 2
    centroid = 2.0 * (nll([0.0, 1.0], 0) + nll([1.0, 0.0], 0)) / 2
    assert losses['loss_inter'].item() == pytest.approx(inter, rel=1e-6)
    assert losses['loss_intra'].item() == pytest.approx(intra, rel=1e-6)
    assert losses['loss_centroid'].item() == pytest.approx(centroid, rel=1e-6)
    # Every memory recorded the batch for its momentum update.
    assert all(m.has_pending_update for m in head.memories.values())


def test_gradients_reach_the_features_from_every_branch():
    head = _head()
    _set_banks(
        head, inter=[[1.0, 0.0], [0.0, 1.0]], intra=[[0.6, 0.8], [0.8, 0.6]])
    for name in ('inter', 'intra'):
        feats = torch.tensor([[0.8, 0.6]], requires_grad=True)
        loss = head.loss(feats, torch.tensor([1]))[f'loss_{name}']
        loss.backward()
        assert feats.grad.abs().sum() > 0


def test_dropping_a_branch_for_the_ablations():
    inter_only = _head(intra_memory=None)
    assert list(inter_only.memories) == ['inter']
    intra_only = _head(inter_memory=None)
    _set_banks(intra_only, intra=[[1.0, 0.0], [0.0, 1.0]])
    losses = intra_only.loss(torch.tensor([[1.0, 0.0]]), torch.tensor([0]))
    assert set(losses) == {'loss_intra'}
    with pytest.raises(ValueError, match='at least'):
        _head(inter_memory=None, intra_memory=None)


def test_memory_feat_dim_defaults_to_the_heads():
    head = _head(
        feat_dim=8,
        intra_memory=dict(
            type='ProxyMemory',
            feat_dim=8,
            selector=dict(type='IntraIDProxySelector'),
            update_rule='mean'),
        centroid_memory=dict(type='ClusterMemory', momentum=0.2))
    assert head.memories['inter'].feat_dim == 8
    assert head.memories['intra'].update_rule == 'mean'
    assert isinstance(head.memories['centroid'], ClusterMemory)
    assert head.memories['centroid'].momentum == 0.2
