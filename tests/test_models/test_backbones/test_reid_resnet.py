import pytest
import torch
import torchvision
from mmengine.runner import checkpoint as mmengine_checkpoint
from torch.nn.modules.batchnorm import _BatchNorm

from mmreid_unsup.models import ReIDResNet


def test_last_stride_one_keeps_1_16_of_input():
    model = ReIDResNet(depth=18, last_stride=1).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 128, 64))
    assert out.shape == (1, 512, 8, 4)
    assert model.out_channels == 512


def test_last_stride_two_is_plain_resnet():
    model = ReIDResNet(depth=18, last_stride=2).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 128, 64))
    assert out.shape == (1, 512, 4, 2)


def test_bottleneck_last_stride_on_conv2_and_downsample():
    model = ReIDResNet(depth=50, last_stride=1)
    first = model.layer4[0]
    assert first.conv1.stride == (1, 1)
    assert first.conv2.stride == (1, 1)
    assert first.downsample[0].stride == (1, 1)
    assert model.out_channels == 2048
    with torch.no_grad():
        out = model.eval()(torch.randn(1, 3, 32, 16))
    assert out.shape == (1, 2048, 2, 1)


def test_state_dict_keys_are_torchvision_keys_without_fc():
    ours = set(ReIDResNet(depth=18).state_dict())
    theirs = set(torchvision.models.resnet18().state_dict())
    assert ours == theirs - {'fc.weight', 'fc.bias'}


def _assert_loaded(model, reference_state):
    for key, value in model.state_dict().items():
        assert torch.equal(value, reference_state[key]), key


def test_pretrained_init_from_local_file(tmp_path):
    reference = torchvision.models.resnet18().state_dict()
    path = tmp_path / 'resnet18.pth'
    torch.save(reference, path)
    model = ReIDResNet(
        depth=18, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    assert not torch.equal(model.conv1.weight, reference['conv1.weight'])
    model.init_weights()
    _assert_loaded(model, reference)


def test_pretrained_init_torchvision_scheme(monkeypatch):
    """``torchvision://resnet18`` resolves to torchvision's URL and the
    downloaded keys load; the download itself is replaced (no internet)."""
    reference = torchvision.models.resnet18().state_dict()
    urls = []

    def fake_load_from_http(url, map_location=None, **kwargs):
        urls.append(url)
        return reference

    monkeypatch.setattr(mmengine_checkpoint, 'load_from_http',
                        fake_load_from_http)
    model = ReIDResNet(
        depth=18,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18'))
    model.init_weights()
    assert urls and 'resnet18' in urls[0]
    _assert_loaded(model, reference)


def test_frozen_stages():
    model = ReIDResNet(depth=18, frozen_stages=1)
    model.train()
    for module in (model.conv1, model.bn1, model.layer1):
        assert all(not p.requires_grad for p in module.parameters())
    assert not model.bn1.training
    assert not model.layer1[0].bn1.training
    assert all(p.requires_grad for p in model.layer2.parameters())
    assert model.layer2[0].bn1.training


def test_norm_eval_keeps_bn_in_eval_mode():
    model = ReIDResNet(depth=18, norm_eval=True).train()
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert norms and all(not m.training for m in norms)
    assert model.conv1.weight.requires_grad


@pytest.mark.parametrize('kwargs', [
    dict(depth=20),
    dict(depth=18, last_stride=3),
    dict(depth=18, frozen_stages=5)
])
def test_invalid_arguments(kwargs):
    with pytest.raises((KeyError, ValueError)):
        ReIDResNet(**kwargs)
