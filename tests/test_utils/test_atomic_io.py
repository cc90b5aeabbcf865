import errno
import os

import pytest
import torch
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.fileio.backends import local_backend

from mmreid_unsup.utils import (AtomicLocalBackend, atomic_write_bytes,
                                safe_torch_load)
from toy_runner import build_toy_runner


def test_atomic_write_replaces_whole_file(tmp_path):
    dst = tmp_path / 'sub' / 'f.bin'
    atomic_write_bytes(b'old', dst)
    atomic_write_bytes(b'new contents', dst)
    assert dst.read_bytes() == b'new contents'
    assert os.listdir(dst.parent) == ['f.bin']  # no temporary left over
    assert oct(dst.stat().st_mode & 0o777) != oct(0o600)


def test_failed_write_keeps_previous_file(tmp_path, monkeypatch):
    dst = tmp_path / 'ckpt.pth'
    atomic_write_bytes(b'good checkpoint', dst)

    def crash(src, target):
        raise KeyboardInterrupt('killed during save')

    monkeypatch.setattr(os, 'replace', crash)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(b'half', dst)
    assert dst.read_bytes() == b'good checkpoint'
    assert os.listdir(tmp_path) == ['ckpt.pth']


def _save(runner, path) -> None:
    """``ReIDRunner.save_checkpoint`` of the (untrained) toy model."""
    runner.save_checkpoint(
        str(path.parent),
        path.name,
        save_optimizer=False,
        save_param_scheduler=False)


def test_the_runner_saves_checkpoints_atomically(tmp_path, monkeypatch):
    runner = build_toy_runner(tmp_path / 'work')
    path = tmp_path / 'epoch_1.pth'
    _save(runner, path)
    saved = safe_torch_load(path)['state_dict']['linear.weight']
    assert torch.equal(saved, runner.model.linear.weight)
    with torch.no_grad():
        runner.model.linear.weight.zero_()

    def crash(*args, **kwargs):
        raise RuntimeError('disk full')

    # A failure while writing the next version leaves epoch_1 loadable.
    monkeypatch.setattr(os, 'fsync', crash)
    with pytest.raises(RuntimeError, match='disk full'):
        _save(runner, path)
    loaded = safe_torch_load(path)
    assert torch.equal(loaded['state_dict']['linear.weight'], saved)
    assert sorted(os.listdir(tmp_path)) == ['epoch_1.pth', 'work']  # no tmp


def test_mmengine_s_own_file_backend_is_left_alone(tmp_path):
    """Nothing replaces MMEngine's local backend (the runner saves
    atomically by itself)."""
    backend = get_file_backend(str(tmp_path))
    assert type(backend) is LocalBackend
    assert not isinstance(backend, AtomicLocalBackend)


def test_put_text_is_atomic_too(tmp_path):
    backend = AtomicLocalBackend()
    backend.put_text('work_dirs/epoch_3.pth', tmp_path / 'last_checkpoint')
    assert (tmp_path / 'last_checkpoint').read_text() == \
        'work_dirs/epoch_3.pth'


class _FullDisk:
    """A binary file whose writes fail as on a full disk."""

    def __init__(self, f):
        self._f = f

    def write(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()


def _fill_disk(monkeypatch):
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, 'fdopen',
                        lambda *a, **k: _FullDisk(real_fdopen(*a, **k)))


def _fill_mmengine_disk(monkeypatch):
    """MMEngine's LocalBackend (which the runner writes its temporary file
    with) writes to a full disk."""
    real_open = open

    def full_disk_open(file, mode='r', *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        return _FullDisk(f) if 'w' in mode else f

    monkeypatch.setattr(local_backend, 'open', full_disk_open, raising=False)


def test_full_disk_names_the_file_and_keeps_the_previous_checkpoint(
        tmp_path, monkeypatch):
    runner = build_toy_runner(tmp_path / 'work')
    path = tmp_path / 'epoch_1.pth'
    _save(runner, path)
    before = path.read_bytes()
    _fill_mmengine_disk(monkeypatch)
    with pytest.raises(OSError) as err:
        _save(runner, path)
    assert err.value.errno == errno.ENOSPC
    message = str(err.value)
    assert (f'cannot write {path}: No space left on device while writing '
            'the data; the previous epoch_1.pth is left as it was') in message
    assert 'free some space on that disk' in message
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ['epoch_1.pth', 'work']  # no tmp


def test_full_disk_in_an_atomic_write_keeps_the_previous_file(
        tmp_path, monkeypatch):
    path = tmp_path / 'epoch_1.pth'
    AtomicLocalBackend().put(b'good', path)
    _fill_disk(monkeypatch)
    with pytest.raises(OSError, match=f'cannot write {path}: .* while '
                       'writing the data; the previous epoch_1.pth is left'):
        AtomicLocalBackend().put(b'half', path)
    assert path.read_bytes() == b'good'
    assert os.listdir(tmp_path) == ['epoch_1.pth']


def test_full_disk_on_a_new_file_says_nothing_was_written(
        tmp_path, monkeypatch):
    _fill_disk(monkeypatch)
    dst = tmp_path / 'last_checkpoint'
    with pytest.raises(OSError, match=f'cannot write {dst}: .* no '
                       'last_checkpoint was written'):
        atomic_write_bytes(b'x', dst)
    assert os.listdir(tmp_path) == []


def test_unmakeable_folder_keeps_the_subclass_and_names_the_step(tmp_path):
    (tmp_path / 'file').write_text('')
    dst = tmp_path / 'file' / 'sub' / 'x.pth'
    with pytest.raises(OSError) as err:
        atomic_write_bytes(b'x', dst)
    assert type(err.value) in (FileExistsError, NotADirectoryError)
    assert (f'cannot write {dst}: ' in str(err.value)
            and f'while creating the folder {dst.parent}' in str(err.value))
