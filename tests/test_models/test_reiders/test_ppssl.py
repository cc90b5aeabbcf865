"""PPSSL model: fused embedding, predict fields, partner labels, losses,
checkpoints of the partner matrix."""
import pytest
import torch

from mmreid_unsup.registry import MODELS
from mmreid_unsup.structures import ReIDDataSample


def _model(head=True, global_weight=0.6):
    cfg = dict(
        type='PPSSL',
        backbone=dict(type='ReIDResNet', depth=18, init_cfg=None),
        neck=dict(type='BNNeck', in_channels=512, pooling='gem'),
        patch_neck=dict(
            type='PatchAttentionNeck',
            in_channels=512,
            num_patches=2,
            patch_channels=8),
        global_weight=global_weight,
        head=dict(
            type='PPSSLHead',
            patch_memory=dict(
                type='InstanceMemory', feat_dim=8, num_parts=2),
            global_memory=dict(type='InstanceMemory', feat_dim=512),
            alignment=dict(
                type='CrossImageAlignment', in_channels=512, channels=8,
                num_patches=2),
            pair_start_epoch=1) if head else None)
    return MODELS.build(cfg)


def _samples(indices):
    return [ReIDDataSample(metainfo=dict(sample_idx=i)) for i in indices]


def test_fused_embedding_mixes_global_and_patch_cosines():
    model = _model().eval()
    x = torch.randn(3, 3, 64, 32)
    with torch.no_grad():
        _, g, _, patches = model.extract_parts(x)
        e = model(x, mode='tensor')
        samples = model(x, mode='predict')
    assert e.shape == (3, 512 + 2 * 8)
    torch.testing.assert_close(e.norm(dim=1), torch.ones(3))
    mixed = 0.6 * g @ g.t() + 0.4 * (
        patches[:, 0] @ patches[:, 0].t() +
        patches[:, 1] @ patches[:, 1].t()) / 2
    torch.testing.assert_close(e @ e.t(), mixed)
    torch.testing.assert_close(samples[1].feat, e[1])
    torch.testing.assert_close(samples[1].patch_feat, patches[1])
    torch.testing.assert_close(samples[1].global_feat, g[1])


def test_partner_labels_and_memories_from_the_refresh():
    model = _model().eval()
    x = torch.randn(5, 3, 64, 32)
    with torch.no_grad():
        feats = model(x, mode='tensor')
        _, g, _, patches = model.extract_parts(x)
    partners = torch.tensor([[1, -1], [0, -1], [3, 4], [2, -1], [2, -1]])
    model.set_pseudo_labels(partners, feats)
    assert torch.equal(model.pseudo_labels, partners)
    torch.testing.assert_close(model.head.global_memory.bank, g)
    torch.testing.assert_close(model.head.patch_memory.bank, patches)
    with pytest.raises(ValueError, match='partner matrix'):
        model.set_pseudo_labels(torch.zeros(5, dtype=torch.long), feats)

    model.train()
    model.set_epoch(1)
    losses = model(x[:4], _samples([0, 1, 2, 3]), mode='loss')
    assert {'loss_patch', 'loss_global', 'loss_intra',
            'loss_inter'} <= set(losses)
    assert losses['num_inter_pairs'].item() == 4  # 0-1, 1-0, 2-3, 3-2
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    assert model.head.alignment.offset.weight.grad is not None


def test_partner_matrix_survives_a_checkpoint():
    model = _model().eval()
    with torch.no_grad():
        feats = model(torch.randn(4, 3, 64, 32), mode='tensor')
    model.set_pseudo_labels(torch.tensor([[1], [0], [-1], [-1]]), feats)
    fresh = _model()
    fresh.load_state_dict(model.state_dict())
    assert torch.equal(fresh.pseudo_labels, model.pseudo_labels)
    torch.testing.assert_close(fresh.head.patch_memory.bank,
                               model.head.patch_memory.bank)


def test_cluster_labels_are_refused():
    model = _model()
    model.pseudo_labels = torch.zeros(4, dtype=torch.long)
    with pytest.raises(RuntimeError, match='PseudoPairLabeler'):
        model(torch.randn(2, 3, 64, 32), _samples([0, 1]), mode='loss')
    with pytest.raises(RuntimeError, match='no head'):
        _model(head=False)(torch.randn(2, 3, 64, 32), _samples([0, 1]),
                           mode='loss')
