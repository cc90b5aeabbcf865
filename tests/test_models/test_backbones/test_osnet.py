import csv
from pathlib import Path
from typing import Dict, List, Tuple

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.nn.modules.batchnorm import _BatchNorm

from mmreid_unsup.models import OSNet, OSNetFCNeck
from mmreid_unsup.models.backbones.osnet import ChannelGate, OSBlock
from mmreid_unsup.registry import MODELS
from tiny_cluster_contrast import shared_dir

SHARED_DIR = shared_dir()
WEIGHTS = SHARED_DIR / 'weights' / 'osnet_x0_25_msmt17.pth'
CUHK03 = SHARED_DIR / 'data' / 'cuhk03'
needs_weights = pytest.mark.skipif(
    not WEIGHTS.is_file(),
    reason=f'torchreid OSNet weights not found at {WEIGHTS} (set '
    'MMREID_SHARED_DIR to the folder holding weights/osnet_x0_25_msmt17.pth)')
needs_cuhk03 = pytest.mark.skipif(
    not (CUHK03 / 'splits' / 'train.csv').is_file(),
    reason=f'real CUHK03 crops not found at {CUHK03} '
    '(set MMREID_SHARED_DIR to the folder holding data/cuhk03)')

ARCH_CHANNELS = {
    'x1_0': 512,
    'x0_75': 384,
    'x0_5': 256,
    'x0_25': 128,
}


@pytest.fixture(autouse=True, scope='module')
def single_thread():
    """These small forwards run 100x faster on one thread than on two when
    the CPU is shared (thread synchronisation dominates)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _load_torchreid_weights() -> Dict[str, torch.Tensor]:
    return torch.load(WEIGHTS, map_location='cpu', weights_only=True)


def _split_torchreid(
    state: Dict[str, torch.Tensor]
) -> Tuple[Dict[str, torch.Tensor], Dict[str, torch.Tensor]]:
    """torchreid keys -> (OSNet part, OSNetFCNeck part); classifier dropped."""
    backbone = {
        k: v
        for k, v in state.items()
        if k.startswith(('conv1.', 'conv2.', 'conv3.', 'conv4.', 'conv5.'))
    }
    neck = {k: v for k, v in state.items() if k.startswith('fc.')}
    assert len(backbone) + len(neck) + 2 == len(state)
    return backbone, neck


@pytest.mark.parametrize('arch', list(ARCH_CHANNELS))
def test_forward_shapes(arch):
    backbone = OSNet(arch=arch).eval()
    neck = OSNetFCNeck(in_channels=backbone.out_channels).eval()
    with torch.no_grad():
        feat_map = backbone(torch.randn(2, 3, 64, 32))
        embedding = neck(feat_map)
    assert backbone.out_channels == ARCH_CHANNELS[arch]
    assert feat_map.shape == (2, ARCH_CHANNELS[arch], 4, 2)  # 1/16
    assert embedding.shape == (2, 512)
    assert (embedding >= 0).all()  # ends with a ReLU


def test_built_from_registry():
    backbone = MODELS.build(dict(type='OSNet', arch='x0_25'))
    neck = MODELS.build(
        dict(type='OSNetFCNeck', in_channels=128, out_channels=64))
    assert isinstance(backbone, OSNet)
    assert backbone.channels == (16, 64, 96, 128)
    assert isinstance(neck, OSNetFCNeck) and neck.fc[0].out_features == 64


def test_x0_25_size_equals_torchreid():
    """The weights README: 208,472 values in backbone + fc, BN buffers
    included (201,864 of them are parameters)."""
    backbone, neck = OSNet('x0_25'), OSNetFCNeck(128)
    state = {**backbone.state_dict(), **neck.state_dict()}
    assert len(state) == 565  # 567 tensors minus classifier.weight/bias
    assert sum(v.numel() for v in state.values()) == 208_472
    params = list(backbone.parameters()) + list(neck.parameters())
    assert sum(p.numel() for p in params) == 201_864


def test_torchreid_key_names_and_shapes():
    """A sample of torchreid osnet_x0_25's names (checked in full against
    the real file by the next test)."""
    state = {**OSNet('x0_25').state_dict(), **OSNetFCNeck(128).state_dict()}
    expected = {
        'conv1.conv.weight': (16, 3, 7, 7),
        'conv1.bn.running_var': (16, ),
        'conv2.0.conv1.conv.weight': (16, 16, 1, 1),
        'conv2.0.conv2a.conv1.weight': (16, 16, 1, 1),
        'conv2.0.conv2a.conv2.weight': (16, 1, 3, 3),  # depthwise
        'conv2.0.conv2d.3.bn.weight': (16, ),
        'conv2.0.gate.fc1.weight': (1, 16, 1, 1),
        'conv2.0.gate.fc2.bias': (16, ),
        'conv2.0.conv3.conv.weight': (64, 16, 1, 1),
        'conv2.0.downsample.conv.weight': (64, 16, 1, 1),
        'conv2.2.0.conv.weight': (64, 64, 1, 1),  # transition
        'conv4.0.gate.fc1.weight': (2, 32, 1, 1),
        'conv5.conv.weight': (128, 128, 1, 1),
        'fc.0.weight': (512, 128),
        'fc.1.running_mean': (512, ),
    }
    for key, shape in expected.items():
        assert tuple(state[key].shape) == shape, key
    assert 'conv2.1.downsample.conv.weight' not in state  # in == out
    assert not any(k.startswith('conv4.2.') for k in state)  # no pooling


@needs_weights
def test_keys_and_shapes_equal_shared_checkpoint():
    theirs = _load_torchreid_weights()
    assert len(theirs) == 567
    ours = {**OSNet('x0_25').state_dict(), **OSNetFCNeck(128).state_dict()}
    theirs.pop('classifier.weight')
    theirs.pop('classifier.bias')
    assert list(ours) == list(theirs)  # same names, same order
    for key, value in ours.items():
        assert value.shape == theirs[key].shape, key
        assert value.dtype == theirs[key].dtype, key


# A step-by-step functional OSNet forward from the raw torchreid tensors,
# written from the paper's description, independent of the modules above.
def _ref_bn(state: Dict[str, torch.Tensor], prefix: str,
            x: torch.Tensor) -> torch.Tensor:
    return F.batch_norm(
        x,
        state[f'{prefix}.running_mean'],
        state[f'{prefix}.running_var'],
        state[f'{prefix}.weight'],
        state[f'{prefix}.bias'],
        training=False,
        eps=1e-5)


def _ref_conv_bn(state, prefix, x, stride=1, padding=0, relu=True):
    x = F.conv2d(x, state[f'{prefix}.conv.weight'], None, stride, padding)
    x = _ref_bn(state, f'{prefix}.bn', x)
    return F.relu(x) if relu else x


def _ref_lite3x3(state, prefix, x):
    x = F.conv2d(x, state[f'{prefix}.conv1.weight'])
    depthwise = state[f'{prefix}.conv2.weight']
    x = F.conv2d(x, depthwise, padding=1, groups=depthwise.shape[0])
    return F.relu(_ref_bn(state, f'{prefix}.bn', x))


def _ref_gate(state, prefix, x):
    g = x.mean(dim=(2, 3), keepdim=True)
    g = F.relu(
        F.conv2d(g, state[f'{prefix}.fc1.weight'],
                 state[f'{prefix}.fc1.bias']))
    g = F.conv2d(g, state[f'{prefix}.fc2.weight'], state[f'{prefix}.fc2.bias'])
    return x * torch.sigmoid(g)


def _ref_block(state, prefix, x):
    reduced = _ref_conv_bn(state, f'{prefix}.conv1', x)
    fused = _ref_gate(state, f'{prefix}.gate',
                      _ref_lite3x3(state, f'{prefix}.conv2a', reduced))
    for name, depth in (('conv2b', 2), ('conv2c', 3), ('conv2d', 4)):
        y = reduced
        for i in range(depth):
            y = _ref_lite3x3(state, f'{prefix}.{name}.{i}', y)
        fused = fused + _ref_gate(state, f'{prefix}.gate', y)
    out = _ref_conv_bn(state, f'{prefix}.conv3', fused, relu=False)
    if f'{prefix}.downsample.conv.weight' in state:
        x = _ref_conv_bn(state, f'{prefix}.downsample', x, relu=False)
    return F.relu(out + x)


def _reference_features(state: Dict[str, torch.Tensor],
                        x: torch.Tensor) -> torch.Tensor:
    """L2norm(fc(avgpool(conv5))) as torchreid computes it in eval mode."""
    x = _ref_conv_bn(state, 'conv1', x, stride=2, padding=3)
    x = F.max_pool2d(x, 3, stride=2, padding=1)
    for stage, pooled in (('conv2', True), ('conv3', True), ('conv4', False)):
        x = _ref_block(state, f'{stage}.0', x)
        x = _ref_block(state, f'{stage}.1', x)
        if pooled:
            x = _ref_conv_bn(state, f'{stage}.2.0', x)
            x = F.avg_pool2d(x, 2, stride=2)
    x = _ref_conv_bn(state, 'conv5', x)
    v = F.linear(x.mean(dim=(2, 3)), state['fc.0.weight'], state['fc.0.bias'])
    v = F.relu(_ref_bn(state, 'fc.1', v))
    return F.normalize(v, dim=1)


def _pick_cuhk03_crops(num_ids: int = 4) -> Tuple[List[Path], torch.Tensor]:
    """The first image of each camera of the first ``num_ids`` identities of
    ``splits/train.csv`` (in pid order) seen by both cameras."""
    by_pid: Dict[int, Dict[int, str]] = {}
    with open(CUHK03 / 'splits' / 'train.csv', newline='') as f:
        for row in csv.DictReader(f):
            by_pid.setdefault(int(row['pid']), {}).setdefault(
                int(row['camid']), row['filename'])
    pids = [p for p in sorted(by_pid) if len(by_pid[p]) == 2][:num_ids]
    paths = [
        CUHK03 / by_pid[p][cam] for p in pids for cam in sorted(by_pid[p])
    ]
    labels = torch.tensor([p for p in pids for _ in range(2)])
    return paths, labels


def _load_crops(paths: List[Path], size: Tuple[int, int] = (256, 128)):
    """RGB, resized to ``size`` (H, W), ImageNet-normalised, as torchreid."""
    mean = np.array([0.485, 0.456, 0.406])
    std = np.array([0.229, 0.224, 0.225])
    images = []
    for path in paths:
        bgr = cv2.imread(str(path))
        assert bgr is not None, path
        rgb = cv2.resize(
            bgr[:, :, ::-1], (size[1], size[0]),
            interpolation=cv2.INTER_LINEAR)
        images.append(((rgb / 255.0 - mean) / std).transpose(2, 0, 1))
    return torch.from_numpy(np.stack(images).astype(np.float32))


def _same_and_different_id_similarity(
        feats: torch.Tensor, labels: torch.Tensor) -> Tuple[float, float]:
    """Mean cosine similarity of same-identity and of different-identity
    pairs (each image with itself excluded)."""
    sims = feats @ feats.t()
    same = labels[:, None] == labels[None, :]
    not_self = ~torch.eye(len(labels), dtype=torch.bool)
    return (sims[same & not_self].mean().item(), sims[~same].mean().item())


@needs_weights
@needs_cuhk03
def test_msmt17_weights_give_identity_features():
    """With the MSMT17 weights, L2norm(OSNetFCNeck(OSNet(x))) equals the
    step-by-step torchreid computation and, on cross-camera CUHK03 pairs
    (a dataset the model never saw), same-identity pairs are more similar
    than different-identity pairs, by more than raw pixels are.

    Measured (4 ids x 2 cameras, 256x128): same 0.561, different 0.482;
    raw pixels: 0.382 vs 0.371.
    """
    state = _load_torchreid_weights()
    backbone_state, neck_state = _split_torchreid(state)
    backbone, neck = OSNet('x0_25'), OSNetFCNeck(128)
    backbone.load_state_dict(backbone_state, strict=True)
    neck.load_state_dict(neck_state, strict=True)
    backbone.eval()
    neck.eval()

    paths, labels = _pick_cuhk03_crops(num_ids=4)
    assert len(paths) == 8
    images = _load_crops(paths)
    with torch.no_grad():
        feats = F.normalize(neck(backbone(images)), dim=1)
        reference = _reference_features(state, images)
    assert feats.shape == (8, 512)
    torch.testing.assert_close(feats, reference, rtol=1e-4, atol=1e-5)

    same, different = _same_and_different_id_similarity(feats, labels)
    pixel_same, pixel_different = _same_and_different_id_similarity(
        F.normalize(images.flatten(1), dim=1), labels)
    message = (f'same-id {same:.3f}, different-id {different:.3f}; pixels '
               f'{pixel_same:.3f} vs {pixel_different:.3f}')
    assert same - different > 0.05, message
    assert same - different > 2 * (pixel_same - pixel_different), message


def test_default_init_is_torchreids():
    torch.manual_seed(0)
    backbone, neck = OSNet('x1_0'), OSNetFCNeck(512)
    backbone.init_weights()
    neck.init_weights()
    # Kaiming normal, fan_out: std = sqrt(2 / (out_channels * k * k)).
    conv = backbone.conv2[0].conv3.conv.weight  # 256 x 64 x 1 x 1
    assert conv.std().item() == pytest.approx((2 / 256)**0.5, rel=0.05)
    assert torch.all(backbone.conv2[0].gate.fc1.bias == 0)
    norms = [m for m in backbone.modules() if isinstance(m, _BatchNorm)]
    assert all(
        torch.all(m.weight == 1) and torch.all(m.bias == 0) for m in norms)
    linear, bn1d = neck.fc[0], neck.fc[1]
    assert linear.weight.std().item() == pytest.approx(0.01, rel=0.05)
    assert torch.all(linear.bias == 0)
    assert torch.all(bn1d.weight == 1) and torch.all(bn1d.bias == 0)


def test_channel_gate_scales_each_channel_by_a_weight_in_0_1():
    gate = ChannelGate(32)
    x = torch.rand(2, 32, 5, 3) + 0.1
    with torch.no_grad():
        ratio = gate(x) / x
    # One weight per (sample, channel), the same at every position.
    assert torch.allclose(ratio, ratio[:, :, :1, :1].expand_as(ratio))
    assert ratio.gt(0).all() and ratio.lt(1).all()


def test_osblock_shares_one_gate_and_projects_shortcut_only_when_needed():
    block = OSBlock(64, 256)
    assert [
        len(s) if isinstance(s, torch.nn.Sequential) else 1
        for s in block.streams
    ] == [1, 2, 3, 4]
    assert sum(isinstance(m, ChannelGate) for m in block.modules()) == 1
    assert block.downsample is not None
    assert OSBlock(256, 256).downsample is None
    with torch.no_grad():
        out = block.eval()(torch.randn(1, 64, 6, 4))
    assert out.shape == (1, 256, 6, 4) and out.min() >= 0


def test_train_mode_backward():
    backbone, neck = OSNet('x0_25'), OSNetFCNeck(128, 32)
    backbone.train()
    neck.train()
    neck(backbone(torch.randn(2, 3, 64, 32))).pow(2).sum().backward()
    assert backbone.conv1.conv.weight.grad is not None
    assert backbone.conv4[1].gate.fc2.weight.grad.abs().sum() > 0
    assert neck.fc[0].weight.grad is not None


def test_frozen_stages():
    model = OSNet('x0_25', frozen_stages=1).train()
    for stage in (model.conv1, model.conv2):
        assert all(not p.requires_grad for p in stage.parameters())
        assert all(not m.training for m in stage.modules())
    assert all(p.requires_grad for p in model.conv3.parameters())
    assert model.conv3[0].conv1.bn.training
    frozen_all = OSNet('x0_25', frozen_stages=4).train()
    assert not any(p.requires_grad for p in frozen_all.parameters())


def test_norm_eval_keeps_bn_in_eval_mode():
    model = OSNet('x0_25', norm_eval=True).train()
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert norms and all(not m.training for m in norms)
    assert model.conv1.conv.weight.requires_grad
    before = model.conv5.bn.running_mean.clone()
    model(torch.randn(2, 3, 64, 32))
    assert torch.equal(model.conv5.bn.running_mean, before)


@pytest.mark.parametrize('kwargs, error', [
    (dict(arch='x2_0'), KeyError),
    (dict(arch='x0_25', frozen_stages=5), ValueError),
    (dict(arch='x0_25', frozen_stages=-2), ValueError),
])
def test_invalid_arguments(kwargs, error):
    with pytest.raises(error):
        OSNet(**kwargs)
