import io
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer

from mmreid_unsup.utils import checkpoint_safe_globals, safe_torch_load


def _saved(obj) -> io.BytesIO:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return buffer


def _mmengine_objects() -> dict:
    history = HistoryBuffer()
    history.update(1.5)
    return dict(
        message_hub=dict(log_scalars={'train/loss': history}),
        seed=np.int64(3),
        lr=np.float64(0.1),
        arr=np.arange(3, dtype=np.float32))


def test_mmengine_checkpoint_objects_load_with_safe_torch_load():
    loaded = safe_torch_load(_saved(_mmengine_objects()))
    history = loaded['message_hub']['log_scalars']['train/loss']
    assert type(history) is HistoryBuffer and history.current() == 1.5
    assert type(loaded['seed']) is np.int64 and loaded['seed'] == 3
    assert type(loaded['arr']) is np.ndarray
    np.testing.assert_array_equal(loaded['arr'], np.arange(3))


def test_plain_torch_load_reads_them_into_inert_records_in_the_block():
    """Scripts calling torch.load(weights_only=True) on our checkpoints
    unpickle them inside checkpoint_safe_globals(); the allow-list is
    given back after (importing the package allow-lists nothing)."""
    from mmreid_unsup.utils.checkpoint_stand_ins import HistoryBufferRecord
    before = torch.serialization.get_safe_globals()
    with checkpoint_safe_globals():
        loaded = torch.load(_saved(_mmengine_objects()), weights_only=True)
    assert torch.serialization.get_safe_globals() == before
    record = loaded['message_hub']['log_scalars']['train/loss']
    assert type(record) is HistoryBufferRecord
    assert record.to_history_buffer().current() == 1.5
    assert loaded['seed'] == 3
    with pytest.raises(pickle.UnpicklingError):
        torch.load(_saved(_mmengine_objects()), weights_only=True)


class _RunsCode:
    def __reduce__(self):
        import os
        return (os.system, ('echo pwned',))


def test_a_pickle_that_runs_code_is_refused():
    buffer = io.BytesIO()
    torch.save({'evil': _RunsCode()}, buffer, pickle_module=pickle)
    buffer.seek(0)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(buffer, weights_only=True)


# -- every path users load checkpoints through refuses unsafe files --------

import os  # noqa: E402
from pathlib import Path  # noqa: E402

from mmengine.runner.checkpoint import save_checkpoint  # noqa: E402

from mmreid_unsup.engine import build_runner, load_checkpoint  # noqa: E402
from mmreid_unsup.engine import read_checkpoint  # noqa: E402
from mmreid_unsup.utils import UnsafeCheckpointError  # noqa: E402
from tiny_cluster_contrast import (REPO_ROOT, TINY_CONFIG,  # noqa: E402
                                   load_script,
                                   shared_dir, tiny_cfg)

OSNET_WEIGHTS = shared_dir() / 'weights' / 'osnet_x0_25_msmt17.pth'


class _TouchesMarker:
    """Unpickling it creates ``path`` (as a real attack would run code)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (os.system, (f'touch {self.path}', ))


def _evil_checkpoint(tmp_path: Path, legacy: bool = False) -> Path:
    """A checkpoint with real weights and a payload that touches MARKER."""
    model = torch.nn.Linear(2, 2)
    obj = dict(state_dict=model.state_dict(),
               meta=dict(payload=_TouchesMarker(tmp_path / 'MARKER')))
    path = tmp_path / ('evil_legacy.pth' if legacy else 'evil.pth')
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
    return path


def _assert_refused(excinfo, path: Path, marker: Path) -> None:
    message = str(excinfo.value)
    assert str(path) in message
    assert 'not a safe checkpoint' in message
    assert 'weights_only' in message
    assert 'posix.system' in message or 'Unsupported' in message
    assert not marker.exists(), 'the payload ran'


@pytest.mark.parametrize('legacy', [False, True])
def test_safe_torch_load_refuses_code(tmp_path, legacy):
    path = _evil_checkpoint(tmp_path, legacy)
    with pytest.raises(UnsafeCheckpointError) as excinfo:
        safe_torch_load(path)
    _assert_refused(excinfo, path, tmp_path / 'MARKER')
    # Still an UnpicklingError for code that caught torch's own error.
    assert isinstance(excinfo.value, pickle.UnpicklingError)


def test_safe_load_ignores_the_env_switch_that_disables_safety(
        tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    path = _evil_checkpoint(tmp_path)
    with pytest.raises(UnsafeCheckpointError):
        load_checkpoint(torch.nn.Linear(2, 2), str(path), logger='silent')
    assert not (tmp_path / 'MARKER').exists()


def test_a_corrupt_file_is_not_called_unsafe(tmp_path):
    path = tmp_path / 'truncated.pth'
    torch.save(dict(w=torch.ones(3)), path)
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(Exception) as excinfo:
        safe_torch_load(path)
    assert not isinstance(excinfo.value, UnsafeCheckpointError)


def test_load_checkpoint_refuses_code(tmp_path):
    path = _evil_checkpoint(tmp_path)
    with pytest.raises(UnsafeCheckpointError) as excinfo:
        load_checkpoint(torch.nn.Linear(2, 2), str(path), logger='silent')
    _assert_refused(excinfo, path, tmp_path / 'MARKER')


def test_remote_schemes_give_the_same_message(tmp_path, monkeypatch):
    """``http://`` and the other schemes fail the same clear way."""
    from mmengine.runner import checkpoint as ckpt_module
    path = _evil_checkpoint(tmp_path)
    # MMEngine's http loader downloads with load_url, then torch.load.
    monkeypatch.setattr(ckpt_module, 'load_url',
                        lambda url, map_location=None, **kw: torch.load(
                            path, map_location=map_location))
    before = torch.load
    with pytest.raises(UnsafeCheckpointError, match='https://x/evil.pth'):
        read_checkpoint('https://x/evil.pth')
    assert not (tmp_path / 'MARKER').exists()
    assert torch.load is before  # given back


@pytest.mark.parametrize('resume', [False, True])
def test_runner_load_from_and_resume_refuse_code(tiny_synthetic_root,
                                                 tmp_path, resume):
    path = _evil_checkpoint(tmp_path)
    cfg = tiny_cfg(tiny_synthetic_root, tmp_path / 'work',
                   load_from=str(path), resume=resume)
    runner = build_runner(cfg)
    with pytest.raises(UnsafeCheckpointError) as excinfo:
        runner.train()
    _assert_refused(excinfo, path, tmp_path / 'MARKER')


def test_init_model_refuses_code(tmp_path):
    from mmreid_unsup.apis import init_model
    path = _evil_checkpoint(tmp_path)
    with pytest.raises(UnsafeCheckpointError) as excinfo:
        init_model(str(TINY_CONFIG), str(path))
    _assert_refused(excinfo, path, tmp_path / 'MARKER')


def test_torchreid_converter_refuses_code(tmp_path, capsys):
    script = REPO_ROOT / 'tools' / 'model_converters' / 'torchreid2mmreid.py'
    converter = load_script(script, 'torchreid2mmreid')
    path = _evil_checkpoint(tmp_path)
    status = converter.main([str(path), str(tmp_path / 'out.pth')])
    assert status == 1
    err = capsys.readouterr().err
    assert str(path) in err and 'not a safe checkpoint' in err
    assert 'weights_only' in err
    assert not (tmp_path / 'MARKER').exists()
    assert not (tmp_path / 'out.pth').exists()


def test_our_checkpoints_still_load(tmp_path):
    """An MMEngine checkpoint with message hub, numpy and meta loads."""
    model = torch.nn.Linear(2, 2)
    history = HistoryBuffer()
    history.update(0.5)
    path = tmp_path / 'epoch_1.pth'
    save_checkpoint(
        dict(meta=dict(seed=np.int64(1), epoch=1),
             state_dict=model.state_dict(),
             message_hub=dict(log_scalars={'train/loss': history}),
             optimizer=torch.optim.SGD(model.parameters(), lr=0.1)
             .state_dict()), str(path))
    other = torch.nn.Linear(2, 2)
    checkpoint = load_checkpoint(other, str(path), logger='silent')
    assert torch.equal(other.weight, model.weight)
    assert checkpoint['meta']['seed'] == 1


@pytest.mark.skipif(not OSNET_WEIGHTS.is_file(),
                    reason='shared OSNet weights absent')
def test_the_shared_osnet_weights_still_load():
    state = safe_torch_load(OSNET_WEIGHTS, map_location='cpu')
    state = state.get('state_dict', state)
    assert 'conv1.conv.weight' in state
