"""``zoo://NAME`` wherever a checkpoint path is taken: the runner's
``load_from``, ``init_cfg=dict(type='Pretrained')``, the package's
``load_checkpoint``, and MMEngine's ``load_checkpoint`` once
``register_all_modules`` registered the scheme (as the tools do)."""
import pickle

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader

from mmreid_unsup.engine import build_runner
from mmreid_unsup.engine import load_checkpoint as safe_load_checkpoint
from mmreid_unsup.model_zoo import (ChecksumError, UnknownModelError,
                                    load_from_zoo)
from mmreid_unsup.registry import MODELS
from mmreid_unsup.utils import register_all_modules, safe_torch_load
from tiny_cluster_contrast import TINY_CONFIG
from zoo_test_server import (model_entry, sha256_bytes,
                             tiny_checkpoint_bytes, write_index)

TINY = '/v1/tiny-net.pth'
REID = '/v1/tiny-reid.pth'


class Tiny(nn.Sequential):

    def __init__(self) -> None:
        super().__init__(nn.Linear(64, 128), nn.Linear(128, 64))


@pytest.fixture
def zoo(zoo_server, zoo_env, tmp_path, monkeypatch, reid_bytes):
    """Serve a tiny nn checkpoint and a tiny re-ID model checkpoint."""
    tiny = tiny_checkpoint_bytes()
    zoo_server.state.files.update({TINY: tiny, REID: reid_bytes})
    index = write_index(tmp_path / 'zoo', [
        model_entry('tiny-net', zoo_server.url(TINY), sha256_bytes(tiny)),
        model_entry('tiny-reid_osnet_synthetic', zoo_server.url(REID),
                    sha256_bytes(reid_bytes), config=str(TINY_CONFIG)),
    ])
    monkeypatch.setenv('MMREID_ZOO_INDEX', str(index))
    return zoo_server


@pytest.fixture(autouse=True)
def zoo_scheme():
    """The tools' set-up: MMEngine's load_checkpoint takes zoo:// too."""
    register_all_modules(init_default_scope=False)


def _state(path) -> dict:
    return safe_torch_load(path)['state_dict']


def test_register_all_modules_registers_the_zoo_scheme():
    loader = CheckpointLoader._get_checkpoint_loader('zoo://x')
    assert loader is load_from_zoo
    assert loader.__name__ == 'load_from_zoo'  # MMEngine logs "by zoo"


def test_the_package_s_load_checkpoint_takes_zoo_names(zoo, zoo_env):
    model = Tiny()
    safe_load_checkpoint(model, 'zoo://tiny-net', strict=True)
    expected = _state(zoo_env / 'tiny-net.pth')
    for key, value in model.state_dict().items():
        assert torch.equal(value, expected[key])


def test_load_checkpoint_from_zoo(zoo, zoo_env):
    model = Tiny()
    load_checkpoint(model, 'zoo://tiny-net', map_location='cpu',
                    strict=True, logger='silent')
    expected = _state(zoo_env / 'tiny-net.pth')
    for key, value in model.state_dict().items():
        assert torch.equal(value, expected[key])


def test_runner_load_from_zoo(zoo, zoo_env, tmp_path):
    cfg = Config.fromfile(str(TINY_CONFIG))
    cfg.work_dir = str(tmp_path / 'work')
    cfg.load_from = 'zoo://tiny-reid_osnet_synthetic'
    runner = build_runner(cfg)
    runner.load_or_resume()
    expected = _state(zoo_env / 'tiny-reid.pth')
    state = runner.model.state_dict()
    assert set(state) == set(expected)
    for key, value in expected.items():
        assert torch.equal(state[key], value), key
    assert zoo.state.ranges(REID) == [None]


def test_pretrained_init_cfg_from_zoo(zoo, zoo_env):
    init_default_scope('mmreid_unsup')
    cfg = Config.fromfile(str(TINY_CONFIG)).model
    cfg.init_cfg = dict(
        type='Pretrained', checkpoint='zoo://tiny-reid_osnet_synthetic')
    model = MODELS.build(cfg)
    model.init_weights()
    expected = _state(zoo_env / 'tiny-reid.pth')
    assert model.state_dict().keys() == expected.keys()
    for key, value in model.state_dict().items():
        assert torch.equal(value, expected[key]), key


def test_unknown_name_suggests_the_close_one(zoo):
    with pytest.raises(UnknownModelError, match="did you mean 'tiny-net'"):
        load_checkpoint(Tiny(), 'zoo://tiny-nett', logger='silent')
    assert zoo.state.requests == []


def test_checksum_mismatch_through_zoo_scheme(zoo, zoo_env):
    zoo.state.files[TINY] = tiny_checkpoint_bytes(seed=1)  # changed file
    with pytest.raises(ChecksumError, match='expected sha256'):
        load_checkpoint(Tiny(), 'zoo://tiny-net', logger='silent')
    assert not (zoo_env / 'tiny-net.pth').exists()
    assert sorted(p.name for p in zoo_env.iterdir()) == []  # no temp file


class _Payload:
    """Not allow-listed: torch.load(weights_only=True) must refuse it."""


def test_zoo_files_are_read_with_weights_only(zoo_server, zoo_env, tmp_path,
                                              monkeypatch):
    import io
    buffer = io.BytesIO()
    torch.save({'state_dict': {}, 'meta': {'x': _Payload()}}, buffer)
    data = buffer.getvalue()
    zoo_server.state.files['/v1/evil.pth'] = data
    index = write_index(tmp_path / 'zoo', [
        model_entry('evil', zoo_server.url('/v1/evil.pth'),
                    sha256_bytes(data))])
    monkeypatch.setenv('MMREID_ZOO_INDEX', str(index))
    with pytest.raises(pickle.UnpicklingError):
        load_from_zoo('zoo://evil')
    with pytest.raises(pickle.UnpicklingError, match='zoo://evil'):
        load_checkpoint(Tiny(), 'zoo://evil', logger='silent')


def _fake_dist(monkeypatch, rank, calls):
    from mmreid_unsup.model_zoo import checkpoint_loader, download
    monkeypatch.setattr(checkpoint_loader, 'get_dist_info', lambda: (rank, 2))

    def no_local_group():
        raise RuntimeError('Local process group is not created')

    monkeypatch.setattr(checkpoint_loader, 'get_local_rank', no_local_group)
    monkeypatch.setenv('LOCAL_RANK', str(rank))
    monkeypatch.setattr(checkpoint_loader, 'barrier',
                        lambda: calls.append('barrier'))
    real = download.get_checkpoint

    def get_checkpoint(*args, **kwargs):
        calls.append('get_checkpoint')
        return real(*args, **kwargs)

    monkeypatch.setattr(checkpoint_loader, 'get_checkpoint', get_checkpoint)


@pytest.mark.parametrize('rank, order', [
    (0, ['get_checkpoint', 'barrier']),  # local rank 0 downloads
    (1, ['barrier', 'get_checkpoint']),  # the others wait, then read
])
def test_distributed_local_rank_zero_downloads_first(zoo, monkeypatch, rank,
                                                     order):
    calls = []
    _fake_dist(monkeypatch, rank, calls)
    assert 'state_dict' in load_from_zoo('zoo://tiny-net')
    assert calls == order


def test_distributed_failure_still_releases_the_others(zoo, monkeypatch):
    calls = []
    _fake_dist(monkeypatch, 0, calls)
    monkeypatch.setenv('MMREID_OFFLINE', '1')
    with pytest.raises(OSError, match='not cached'):
        load_from_zoo('zoo://tiny-net')
    assert calls == ['get_checkpoint', 'barrier']
