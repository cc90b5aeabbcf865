import os

import pytest
import torch
from mmengine.fileio import get_file_backend
from mmengine.runner.checkpoint import save_checkpoint

import mmreid_unsup  # noqa: F401  (registers the atomic backend)
from mmreid_unsup.utils import AtomicLocalBackend, atomic_write_bytes


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


def test_mmengine_saves_checkpoints_through_the_atomic_backend(
        tmp_path, monkeypatch):
    assert isinstance(get_file_backend(str(tmp_path)), AtomicLocalBackend)
    path = tmp_path / 'epoch_1.pth'
    save_checkpoint({'state_dict': {'w': torch.ones(2)}}, str(path))

    def crash(*args, **kwargs):
        raise RuntimeError('disk full')

    # A failure while writing the next version leaves epoch_1 loadable.
    monkeypatch.setattr(os, 'fsync', crash)
    with pytest.raises(RuntimeError, match='disk full'):
        save_checkpoint({'state_dict': {'w': torch.zeros(2)}}, str(path))
    loaded = torch.load(path, weights_only=True)
    assert torch.equal(loaded['state_dict']['w'], torch.ones(2))


def test_put_text_is_atomic_too(tmp_path):
    backend = AtomicLocalBackend()
    backend.put_text('work_dirs/epoch_3.pth', tmp_path / 'last_checkpoint')
    assert (tmp_path / 'last_checkpoint').read_text() == \
        'work_dirs/epoch_3.pth'
