"""GSL model: branches, fused embedding, views in the loss, memories."""
import math

import pytest
import torch

from mmreid_unsup.registry import MODELS
from mmreid_unsup.structures import ReIDDataSample

S, DP = 2, 8


def _model(branches=('global', 'patch'), **kwargs):
    cfg = dict(
        type='GSL',
        backbone=dict(type='ReIDResNet', depth=18, init_cfg=None),
        neck=dict(type='BNNeck', in_channels=512, pooling='avg'),
        patch_neck=dict(
            type='PatchNeck',
            in_channels=512,
            num_patches=S,
            out_channels=DP,
            generator=dict(
                type='PatchGenerator',
                hidden_channels=32,
                fc_channels=8,
                conv_padding=1)),
        head=dict(
            type='GlobalSimilarityHead',
            memory=dict(type='InstanceMemory', feat_dim=512),
            selector=dict(
                type='CredibleSampleSelector',
                num_neighbours=2,
                rules=['reciprocal', 'patch'])),
        patch_head=dict(
            type='PatchHead',
            num_patches=S,
            feat_dim=DP,
            embed_dim=4,
            patch_loss=dict(type='PedalLoss', num_neighbours=2)))
    if 'patch' not in branches:
        cfg.update(patch_neck=None, patch_head=None)
        cfg['head']['selector']['rules'] = ['reciprocal']
    if 'global' not in branches:
        cfg.update(neck=None, head=None)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def _samples(indices, views):
    return [
        ReIDDataSample(metainfo=dict(sample_idx=i, view=v))
        for i, v in zip(indices, views)
    ]


@pytest.mark.parametrize('branches,dim', [(('global', 'patch'), 512 + S * DP),
                                          (('global', ), 512),
                                          (('patch', ), S * DP)])
def test_embedding_is_unit_and_splits_back(branches, dim):
    torch.manual_seed(0)
    model = _model(branches).eval()
    x = torch.randn(3, 3, 32, 16)
    with torch.no_grad():
        g, p = model.extract_parts(x)
        e = model(x, mode='tensor')
    assert e.shape == (3, dim)
    torch.testing.assert_close(e.norm(dim=1), torch.ones(3))
    g2, p2 = model.split(e)
    for part, back in ((g, g2), (p, p2)):
        assert (part is None) == (back is None)
        if part is not None:
            torch.testing.assert_close(back, part, atol=1e-5, rtol=0)


def test_fused_similarity_mixes_global_and_mean_patch_cosines():
    torch.manual_seed(0)
    model = _model(global_weight=0.3).eval()
    with torch.no_grad():
        g, p = model.extract_parts(torch.randn(4, 3, 32, 16))
        e = model.fuse(g, p)
    mixed = 0.3 * g @ g.t() + 0.7 * torch.einsum('isd,jsd->ij', p, p) / S
    torch.testing.assert_close(e @ e.t(), mixed, atol=1e-5, rtol=0)
    samples = model.predict(torch.randn(2, 3, 32, 16))
    assert samples[0].global_feat.shape == (512, )
    assert samples[0].patch_feat.shape == (S, DP)


def test_loss_with_two_views_updates_from_the_first():
    torch.manual_seed(0)
    model = _model()
    model.eval()
    with torch.no_grad():
        feats = model(torch.randn(10, 3, 32, 16), mode='tensor')
    model.init_memories(feats, torch.arange(10) % 3)
    assert model.num_memory_instances == 10
    global_bank = model.head.memory.bank.clone()
    model.train()
    model.set_epoch(0)
    losses = model(
        torch.randn(6, 3, 32, 16),
        _samples([1, 4, 6, 1, 4, 6], [0, 0, 0, 1, 1, 1]),
        mode='loss')
    assert {'loss_global', 'loss_patch', 'loss_image'} <= set(losses)
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    assert model.backbone.conv1.weight.grad is not None
    assert model.patch_neck.generator.fc_loc[-1].weight.grad is not None
    # One pending update of 3 rows (the first views) per instance memory.
    pending = model.head.memory._pending
    assert len(pending) == 1 and pending[0][1].tolist() == [1, 4, 6]
    for memory in model.memories():
        memory.apply_pending_update()
    changed = (model.head.memory.bank != global_bank).any(1)
    assert changed.nonzero().flatten().tolist() == [1, 4, 6]
    assert model.patch_head.agent_memory.seen.sum() == 3


def test_one_branch_models_train():
    for branches, keys in ((('global', ), {'loss_global'}),
                           (('patch', ), {'loss_patch', 'loss_image'})):
        model = _model(branches)
        model.eval()
        with torch.no_grad():
            feats = model(torch.randn(6, 3, 32, 16), mode='tensor')
        model.init_memories(feats, torch.zeros(6))
        model.train()
        losses = model(
            torch.randn(2, 3, 32, 16), _samples([0, 1], [0, 0]), mode='loss')
        assert keys == {k for k in losses if k.startswith('loss')}


def test_neighbour_stats_of_both_branches():
    model = _model().eval()
    with torch.no_grad():
        feats = model(torch.randn(8, 3, 32, 16), mode='tensor')
    model.init_memories(feats, torch.arange(8) % 2)
    stats = model.neighbour_stats(torch.arange(8) // 2)
    assert set(stats) == {
        'credible_precision', 'credible_per_image', 'credible_cross_camera',
        'patch_precision'
    }


def test_bad_configurations():
    with pytest.raises(ValueError, match='no feature'):
        _model(branches=())
    with pytest.raises(ValueError, match='global head needs'):
        _model(neck=None)
    with pytest.raises(ValueError, match='patch_head needs'):
        _model(patch_neck=None)
    with pytest.raises(ValueError, match=r'in \(0, 1\)'):
        _model(global_weight=1.0)
    with pytest.raises(ValueError, match='global branch only'):
        _model(branches=('global', ), global_weight=0.5)
    with pytest.raises(ValueError, match="rule 'patch' needs"):
        _model(patch_neck=None, patch_head=None)
    with pytest.raises(RuntimeError, match='InstanceMemoryHook'):
        _model().set_pseudo_labels(torch.zeros(3), torch.zeros(3, 4))
    assert math.isclose(_model().global_weight, 0.5)


def test_checkpoint_restores_every_memory():
    torch.manual_seed(0)
    model = _model().eval()
    with torch.no_grad():
        feats = model(torch.randn(6, 3, 32, 16), mode='tensor')
    model.init_memories(feats, torch.arange(6) % 2)
    model.patch_head.agent_memory.init_from_features(torch.ones(6, S * 4))
    torch.manual_seed(1)
    fresh = _model()
    fresh.load_state_dict(model.state_dict())
    assert fresh.num_memory_instances == 6
    for name, value in model.state_dict().items():
        assert torch.equal(fresh.state_dict()[name], value), name
