"""SCL model: fused embedding, predict fields, loss, memory init."""
import pytest
import torch

from mmreid_unsup.registry import MODELS
from mmreid_unsup.structures import ReIDDataSample


def _model(lambda_g=None, head=True):
    cfg = dict(
        type='SCL',
        backbone=dict(type='ReIDResNet', depth=18, init_cfg=None),
        neck=dict(
            type='GlobalStripeNeck',
            in_channels=512,
            global_channels=16,
            num_stripes=2,
            stripe_channels=8),
        head=dict(
            type='SCLHead',
            global_memory=dict(type='InstanceMemory', feat_dim=16),
            local_memory=dict(type='InstanceMemory', feat_dim=8, num_parts=2),
            mixture_memory=dict(
                type='InstanceMemory', feat_dim=16, init='zeros'),
            selector=dict(
                type='NeighbourSelector',
                num_positives=2,
                num_negatives=5,
                lambda_g=0.7,
                warmup_epochs=1)) if head else None,
        lambda_g=lambda_g)
    return MODELS.build(cfg)


def test_lambda_g_defaults_to_the_selector():
    assert _model().lambda_g == 0.7
    assert _model(lambda_g=0.2).lambda_g == 0.2
    assert _model(head=False).lambda_g == 0.5


def test_fused_embedding_is_unit_and_ranks_by_the_mixed_distance():
    model = _model().eval()
    x = torch.randn(4, 3, 32, 16)
    with torch.no_grad():
        g, local = model.extract_parts(x)
        e = model(x, mode='tensor')
    assert e.shape == (4, 16 + 2 * 8)
    assert torch.allclose(e.norm(dim=1), torch.ones(4), atol=1e-6)
    mixed = 0.7 * torch.cdist(g, g).pow(2) + 0.3 / 2 * (
        torch.cdist(local[:, 0], local[:, 0]).pow(2) +
        torch.cdist(local[:, 1], local[:, 1]).pow(2))
    assert torch.allclose(torch.cdist(e, e).pow(2), mixed, atol=1e-5)
    g2, l2 = model.split(e, 16, 2)
    assert torch.allclose(g2, g, atol=1e-6) and torch.allclose(l2, local,
                                                              atol=1e-6)


def test_predict_attaches_the_parts():
    model = _model().eval()
    samples = model(torch.randn(2, 3, 32, 16), mode='predict')
    assert samples[0].feat.shape == (32, )
    assert samples[0].global_feat.shape == (16, )
    assert samples[0].local_feat.shape == (2, 8)


def test_loss_after_init_memories():
    model = _model()
    model.eval()
    with torch.no_grad():
        feats = model(torch.randn(12, 3, 32, 16), mode='tensor')
    model.init_memories(feats, torch.arange(12) % 3)
    assert model.num_memory_instances == 12
    g, _ = model.split(feats, 16, 2)
    assert torch.allclose(model.head.global_memory.bank, g, atol=1e-5)
    model.train()
    model.set_epoch(1)
    samples = [ReIDDataSample(metainfo=dict(sample_idx=i)) for i in (0, 5, 7)]
    losses = model(torch.randn(3, 3, 32, 16), samples, mode='loss')
    total = losses['loss_local'] + losses['loss_global']
    total.backward()
    assert model.backbone.conv1.weight.grad is not None
    assert model.head.mixture_memory.has_pending_update


def test_cluster_labels_are_refused():
    with pytest.raises(RuntimeError, match='InstanceMemoryHook'):
        _model().set_pseudo_labels(torch.zeros(3), torch.zeros(3, 32))
