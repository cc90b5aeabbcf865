import hashlib
import os
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Dict

import pytest
import torch
import torchvision

from tiny_cluster_contrast import load_script

from mmreid_unsup.models import OSNet, OSNetFCNeck
from mmreid_unsup.registry import MODELS

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / 'tools' / 'model_converters' / 'torchreid2mmreid.py'
SHARED_DIR = Path(
    os.environ.get('MMREID_SHARED_DIR', REPO_ROOT / '..' / 'shared'))
WEIGHTS = SHARED_DIR / 'weights' / 'osnet_x0_25_msmt17.pth'
WEIGHTS_SHA256 = (
    '6f57607fed9f502b9efed546108132ee715df5a5b6e6932c6269bacb47f59f99')


def _import_converter():
    return load_script(SCRIPT, 'torchreid2mmreid')


converter = _import_converter()


@pytest.fixture(autouse=True, scope='module')
def single_thread():
    """Small forwards: one thread is much faster on a shared CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _torchreid_state(
        arch: str = 'x0_25',
        num_classes: int = 10) -> 'OrderedDict[str, torch.Tensor]':
    """A torchreid ``osnet_<arch>`` state_dict with random weights and BN
    statistics (so that a wrongly loaded tensor changes the output)."""
    torch.manual_seed(0)
    backbone = OSNet(arch, init_cfg=None)
    neck = OSNetFCNeck(backbone.out_channels, init_cfg=None)
    state = OrderedDict(backbone.state_dict())
    state.update(neck.state_dict())
    for key, value in state.items():
        if key.endswith(('running_var', 'bn.weight', 'fc.1.weight')):
            value.uniform_(0.5, 1.5)
        elif key.endswith(('running_mean', 'bn.bias', 'fc.1.bias')):
            value.normal_(0, 0.1)
    state['classifier.weight'] = torch.randn(num_classes, 512)
    state['classifier.bias'] = torch.zeros(num_classes)
    return state


def _expected_features(state: Dict[str, torch.Tensor], arch: str,
                       x: torch.Tensor) -> torch.Tensor:
    """Modules loaded directly (strict) from torchreid keys."""
    backbone = OSNet(arch, init_cfg=None)
    neck = OSNetFCNeck(backbone.out_channels, init_cfg=None)
    backbone_state = {k: v for k, v in state.items() if k.startswith('conv')}
    neck_state = {k: v for k, v in state.items() if k.startswith('fc.')}
    backbone.load_state_dict(backbone_state, strict=True)
    neck.load_state_dict(neck_state, strict=True)
    with torch.no_grad():
        return torch.nn.functional.normalize(
            neck.eval()(backbone.eval()(x)), dim=1)


def _model_from(checkpoint: Path, arch: str = 'x0_25'):
    channels = OSNet.arch_settings[arch][-1]
    model = MODELS.build(
        dict(
            type='BaseReIDModel',
            backbone=dict(type='OSNet', arch=arch),
            neck=dict(type='OSNetFCNeck', in_channels=channels),
            init_cfg=dict(type='Pretrained', checkpoint=str(checkpoint))))
    model.init_weights()
    return model.eval()


def test_legacy_wrapped_checkpoint_round_trip(tmp_path):
    """Legacy serialization, a ``'state_dict'`` wrapper and ``module.``
    prefixes: convert, load through ``Pretrained`` -> identical outputs."""
    state = _torchreid_state()
    src = tmp_path / 'osnet_x0_25_market.pth.tar'
    torch.save(
        {
            'state_dict': OrderedDict(
                ('module.' + k, v) for k, v in state.items()),
            'epoch': 60,
            'rank1': 0.93,
        },
        src,
        _use_new_zipfile_serialization=False)
    assert not src.read_bytes().startswith(b'PK')  # not a zip: legacy
    dst = tmp_path / 'out' / 'osnet_x0_25_mmreid.pth'

    meta = converter.convert(src, dst)

    checkpoint = torch.load(dst, map_location='cpu', weights_only=True)
    assert checkpoint['meta'] == meta
    assert meta['arch'] == 'x0_25'
    assert meta['source'] == src.name
    assert meta['source_sha256'] == hashlib.sha256(
        src.read_bytes()).hexdigest()
    assert meta['dropped_keys'] == ['classifier.weight', 'classifier.bias']
    converted = checkpoint['state_dict']
    assert len(converted) == len(state) - 2
    for key, value in state.items():
        if key.startswith('classifier.'):
            continue
        prefix = 'neck.' if key.startswith('fc.') else 'backbone.'
        assert torch.equal(converted[prefix + key], value), key
    assert sorted(p.name for p in dst.parent.iterdir()) == [dst.name]

    x = torch.randn(2, 3, 64, 32)
    with torch.no_grad():
        feats = _model_from(dst)(x, mode='tensor')
    assert torch.equal(feats, _expected_features(state, 'x0_25', x))


def test_backbone_alone_loads_with_prefix(tmp_path):
    state = _torchreid_state()
    src, dst = tmp_path / 'plain.pth', tmp_path / 'converted.pth'
    torch.save(state, src)  # zip format, plain state_dict
    converter.convert(src, dst, arch='x0_25')
    backbone = OSNet(
        'x0_25',
        init_cfg=dict(
            type='Pretrained', checkpoint=str(dst), prefix='backbone.'))
    backbone.init_weights()
    for key, value in backbone.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_other_widths_convert(tmp_path):
    state = _torchreid_state('x0_5')
    src, dst = tmp_path / 'x0_5.pth', tmp_path / 'converted.pth'
    torch.save(state, src)
    assert converter.convert(src, dst)['arch'] == 'x0_5'
    x = torch.randn(2, 3, 64, 32)
    with torch.no_grad():
        feats = _model_from(dst, 'x0_5')(x, mode='tensor')
    assert torch.equal(feats, _expected_features(state, 'x0_5', x))


def test_existing_destination_is_replaced(tmp_path):
    src, dst = tmp_path / 'src.pth', tmp_path / 'dst.pth'
    torch.save(_torchreid_state(), src)
    dst.write_bytes(b'old')
    converter.convert(src, dst)
    assert 'state_dict' in torch.load(dst, weights_only=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['dst.pth', 'src.pth']


def test_missing_source(tmp_path, capsys):
    missing = tmp_path / 'nope.pth'
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        converter.convert(missing, tmp_path / 'out.pth')
    assert converter.main([str(missing), str(tmp_path / 'out.pth')]) == 1
    assert 'source checkpoint not found' in capsys.readouterr().err
    assert not (tmp_path / 'out.pth').exists()


def test_unrecognised_layout_names_first_unexpected_keys(tmp_path):
    src = tmp_path / 'resnet18.pth'
    torch.save(torchvision.models.resnet18().state_dict(), src)
    with pytest.raises(
            converter.ConversionError,
            match=r'unrecognised layout.*conv1\.weight, bn1\.weight'):
        converter.convert(src, tmp_path / 'out.pth')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['resnet18.pth']


def test_extra_and_missing_keys_are_named(tmp_path):
    state = _torchreid_state()
    state['conv6.weight'] = torch.zeros(1)
    del state['conv5.bn.running_var']
    src = tmp_path / 'src.pth'
    torch.save(state, src)
    with pytest.raises(
            converter.ConversionError,
            match=r'unexpected keys: conv6\.weight; '
            r'missing keys: conv5\.bn\.running_var'):
        converter.convert(src, tmp_path / 'out.pth')


def test_width_mismatch(tmp_path, capsys):
    src, dst = tmp_path / 'src.pth', tmp_path / 'out.pth'
    torch.save(_torchreid_state('x0_25'), src)
    assert converter.main([str(src), str(dst), '--arch', 'x1_0']) == 1
    err = capsys.readouterr().err
    assert 'width mismatch' in err and 'x0_25' in err and 'x1_0' in err
    assert not dst.exists()

    mixed = _torchreid_state('x0_25')
    mixed['conv5.conv.weight'] = torch.zeros(256, 256, 1, 1)
    torch.save(mixed, src)
    with pytest.raises(
            converter.ConversionError,
            match=r'width mismatch.*conv5\.conv\.weight \(256, 256, 1, 1\)'):
        converter.convert(src, dst)


CALLS = []


def _record_call(tag):
    CALLS.append(tag)


class _RunsCodeOnLoad:

    def __reduce__(self):
        return (_record_call, ('unpickled', ))


def test_refuses_checkpoints_that_would_run_code(tmp_path):
    state = _torchreid_state()
    src = tmp_path / 'evil.pth'
    torch.save({'state_dict': state, 'hook': _RunsCodeOnLoad()}, src)
    with pytest.raises(converter.ConversionError, match='refused to load'):
        converter.convert(src, tmp_path / 'out.pth')
    assert CALLS == []
    assert not (tmp_path / 'out.pth').exists()


@pytest.mark.slow
def test_command_line(tmp_path):
    src, dst = tmp_path / 'src.pth', tmp_path / 'dst.pth'
    torch.save(_torchreid_state(), src)
    done = subprocess.run(
        [sys.executable, str(SCRIPT),
         str(src), str(dst)],
        capture_output=True,
        text=True,
        env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert done.returncode == 0, done.stderr
    assert 'OSNet x0_25' in done.stdout
    assert torch.load(dst, weights_only=True)['meta']['arch'] == 'x0_25'


@pytest.mark.skipif(
    not WEIGHTS.is_file(),
    reason=f'torchreid OSNet weights not found at {WEIGHTS} (set '
    'MMREID_SHARED_DIR to the folder holding weights/osnet_x0_25_msmt17.pth)')
def test_shared_msmt17_weights(tmp_path):
    """The real legacy-format file (saved on Windows) converts and the
    converted model reproduces torchreid's features."""
    dst = tmp_path / 'osnet_x0_25_msmt17_mmreid.pth'
    meta = converter.convert(WEIGHTS, dst)
    assert meta['source_sha256'] == WEIGHTS_SHA256
    assert meta['arch'] == 'x0_25'
    checkpoint = torch.load(dst, weights_only=True)
    assert len(checkpoint['state_dict']) == 565
    assert sum(v.numel() for v in checkpoint['state_dict'].values()) == 208_472

    state = torch.load(WEIGHTS, map_location='cpu', weights_only=True)
    x = torch.randn(2, 3, 128, 64)
    with torch.no_grad():
        feats = _model_from(dst)(x, mode='tensor')
    assert torch.equal(feats, _expected_features(state, 'x0_25', x))
