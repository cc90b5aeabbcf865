import pytest
import torch
from mmengine.optim import OptimWrapper
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import DefaultScope

from mmreid_unsup.models import BaseReIDModel, ClusterContrast, ClusterMemory
from mmreid_unsup.registry import MODELS
from mmreid_unsup.structures import ReIDDataSample

NUM_SAMPLES = 8


def _cfg(**kwargs):
    cfg = dict(
        type='ClusterContrast',
        backbone=dict(type='ReIDResNet', depth=18),
        neck=dict(type='BNNeck', in_channels=512),
        head=dict(
            type='ClusterContrastHead',
            memory=dict(type='ClusterMemory', feat_dim=512, momentum=0.1),
            loss=dict(type='InfoNCELoss', temperature=0.05)))
    cfg.update(kwargs)
    return cfg


def _model(with_labels=True):
    torch.manual_seed(0)
    model = MODELS.build(_cfg())
    if with_labels:
        labels = torch.tensor([0, 0, 1, 1, 2, 2, -1, 0])
        model.set_pseudo_labels(labels, torch.randn(NUM_SAMPLES, 512))
    return model


def _samples(indices):
    return [ReIDDataSample(metainfo=dict(sample_idx=i)) for i in indices]


def _images(batch=4):
    return torch.randn(batch, 3, 32, 16)


def test_registry_builds_every_part():
    for name in ('ReIDResNet', 'GeneralizedMeanPooling', 'BNNeck',
                 'ReIDDataPreprocessor', 'ClusterMemory', 'InfoNCELoss',
                 'ClusterContrastHead', 'BaseReIDModel', 'ClusterContrast'):
        assert MODELS.get(name) is not None, name


def test_root_registry_builds_under_default_scope():
    """How MMEngine's Runner builds the model (``default_scope``)."""
    with DefaultScope.overwrite_default_scope('mmreid_unsup'):
        model = MMENGINE_MODELS.build(_cfg())
    assert isinstance(model, ClusterContrast)
    assert type(model.data_preprocessor).__name__ == 'ReIDDataPreprocessor'


def test_tensor_mode_gives_unit_features():
    model = _model(with_labels=False).eval()
    with torch.no_grad():
        feats = model(_images(), mode='tensor')
    assert feats.shape == (4, 512)
    torch.testing.assert_close(feats.norm(dim=1), torch.ones(4))


def test_predict_sets_feat():
    model = _model(with_labels=False).eval()
    with torch.no_grad():
        created = model(_images(2), mode='predict')
        given = _samples([5, 6])
        returned = model(_images(2), given, mode='predict')
    assert len(created) == 2 and isinstance(created[0], ReIDDataSample)
    assert created[0].feat.shape == (512, )
    assert returned is given
    assert given[1].feat.shape == (512, )


def test_loss_mode_finite_with_grad_to_backbone():
    model = _model().train()
    losses = model(_images(), _samples([0, 2, 4, 7]), mode='loss')
    loss = losses['loss_contrast']
    assert loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    grad = model.backbone.conv1.weight.grad
    assert grad is not None and grad.abs().sum() > 0


def test_labels_are_looked_up_by_sample_idx():
    model = _model()
    labels = model.lookup_pseudo_labels(_samples([7, 6, 2]))
    assert labels.tolist() == [0, -1, 1]
    with pytest.raises(IndexError, match='out of range'):
        model.lookup_pseudo_labels(_samples([NUM_SAMPLES]))


def test_loss_without_pseudo_labels_is_a_clear_error():
    model = _model(with_labels=False)
    with pytest.raises(RuntimeError, match='ClusterRefreshHook'):
        model(_images(), _samples(range(4)), mode='loss')


def test_feature_extractor_without_head():
    model = MODELS.build(_cfg(type='BaseReIDModel', head=None))
    assert isinstance(model, BaseReIDModel)
    assert list(model.memories()) == []
    with pytest.raises(RuntimeError, match='no head'):
        model(_images(), _samples(range(4)), mode='loss')
    with pytest.raises(RuntimeError, match='invalid mode'):
        model(_images(), mode='train')


def test_set_pseudo_labels_fills_buffer_and_memory():
    model = _model()
    assert model.pseudo_labels.tolist() == [0, 0, 1, 1, 2, 2, -1, 0]
    memories = list(model.memories())
    assert len(memories) == 1 and isinstance(memories[0], ClusterMemory)
    assert memories[0].bank.shape == (3, 512)
    with pytest.raises(ValueError):
        model.set_pseudo_labels(torch.tensor([0, 1]), torch.randn(3, 512))


def test_checkpoint_restores_labels_and_bank():
    source = _model()
    target = MODELS.build(_cfg())
    target.load_state_dict(source.state_dict())
    assert torch.equal(target.pseudo_labels, source.pseudo_labels)
    torch.testing.assert_close(target.head.memory.bank,
                               source.head.memory.bank)


def test_training_steps_with_momentum_updates():
    model = _model().train()
    optim_wrapper = OptimWrapper(
        torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9))
    memory = model.head.memory
    bank_before = memory.bank.clone()
    conv_before = model.backbone.conv1.weight.detach().clone()
    for step in range(2):
        data = dict(
            inputs=[
                torch.randint(0, 256, (3, 32, 16), dtype=torch.uint8)
                for _ in range(4)
            ],
            data_samples=_samples([0, 1, 2, 3] if step == 0 else [2, 3, 4, 5]))
        log_vars = model.train_step(data, optim_wrapper)
        assert torch.isfinite(log_vars['loss'])
        # The bank only changes when the hook applies the update.
        assert memory.has_pending_update
        for mem in model.memories():
            mem.apply_pending_update()
        assert not memory.has_pending_update
    assert not torch.allclose(memory.bank, bank_before)
    torch.testing.assert_close(memory.bank.norm(dim=1), torch.ones(3))
    assert not torch.equal(model.backbone.conv1.weight, conv_before)


def test_data_preprocessor_type_defaults_to_reid():
    model = MODELS.build(_cfg(data_preprocessor=dict(bgr_to_rgb=False)))
    assert type(model.data_preprocessor).__name__ == 'ReIDDataPreprocessor'
    assert not model.data_preprocessor._channel_conversion
