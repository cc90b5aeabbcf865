import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import DefaultScope

from mmreid_unsup.models import GRACL, ProxyMemory
from mmreid_unsup.registry import MODELS
from mmreid_unsup.structures import ReIDDataSample

LABELS = torch.tensor([0, 0, 1, 1, 2, 2, -1, 0])


def _cfg(**kwargs):
    cfg = dict(
        type='GRACL',
        backbone=dict(type='ReIDResNet', depth=18),
        neck=dict(type='BNNeck', in_channels=512),
        head=dict(type='GRACLHead', feat_dim=512))
    cfg.update(kwargs)
    return cfg


def _model(features=None):
    torch.manual_seed(0)
    model = MODELS.build(_cfg())
    if features is None:
        features = F.normalize(torch.randn(len(LABELS), 512), dim=1)
    model.set_pseudo_labels(LABELS, features)
    return model


def _samples(indices):
    return [ReIDDataSample(metainfo=dict(sample_idx=i)) for i in indices]


def _batch(indices):
    return dict(
        inputs=[
            torch.randint(0, 256, (3, 32, 16), dtype=torch.uint8)
            for _ in indices
        ],
        data_samples=_samples(indices))


def test_builds_under_default_scope_with_default_head():
    with DefaultScope.overwrite_default_scope('mmreid_unsup'):
        model = MMENGINE_MODELS.build(
            dict(
                type='GRACL',
                backbone=dict(type='ReIDResNet', depth=50),
                neck=dict(type='BNNeck', in_channels=2048)))
    assert isinstance(model, GRACL)
    assert type(model.head).__name__ == 'GRACLHead'
    assert model.head.feat_dim == 2048


def test_set_pseudo_labels_selects_both_proxy_banks():
    features = F.normalize(torch.randn(len(LABELS), 512), dim=1)
    model = _model(features)
    memories = list(model.memories())
    assert len(memories) == 2
    assert all(isinstance(m, ProxyMemory) for m in memories)
    for memory in memories:
        indices = memory.proxy_indices
        # One proxy per cluster, each a member of its cluster.
        assert (LABELS[indices] == torch.arange(3)).all()
        torch.testing.assert_close(memory.bank, features[indices])
        expected = memory.selector(features, LABELS)
        assert torch.equal(indices, expected)


def test_loss_mode_gives_both_losses_with_grad_to_backbone():
    model = _model().train()
    losses = model(
        torch.randn(4, 3, 32, 16), _samples([0, 2, 4, 7]), mode='loss')
    assert set(losses) == {'loss_inter', 'loss_intra'}
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
    assert model.backbone.conv1.weight.grad.abs().sum() > 0


def test_training_steps_move_both_banks():
    model = _model().train()
    optim_wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    before = [m.bank.clone() for m in model.memories()]
    log_vars = model.train_step(_batch([0, 1, 2, 3]), optim_wrapper)
    assert {'loss', 'loss_inter', 'loss_intra'} <= set(log_vars)
    for memory in model.memories():
        memory.apply_pending_update()
    for memory, bank in zip(model.memories(), before):
        # Clusters 0 and 1 were in the batch, cluster 2 was not.
        assert not torch.allclose(memory.bank[:2], bank[:2])
        torch.testing.assert_close(memory.bank[2], bank[2])
        torch.testing.assert_close(memory.bank.norm(dim=1), torch.ones(3))


def test_checkpoint_restores_labels_and_both_banks():
    source = _model()
    target = MODELS.build(_cfg())
    target.load_state_dict(source.state_dict())
    assert torch.equal(target.pseudo_labels, source.pseudo_labels)
    for name in ('inter', 'intra'):
        torch.testing.assert_close(target.head.memories[name].bank,
                                   source.head.memories[name].bank)
