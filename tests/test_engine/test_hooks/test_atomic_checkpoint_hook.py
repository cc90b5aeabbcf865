"""AtomicCheckpointHook: a kill at any moment of a save leaves a checkpoint
that ``--resume`` finds and loads."""
import os
import signal
import subprocess
import sys
import time

import pytest
from mmengine.runner import find_latest_checkpoint

from mmreid_unsup.utils import safe_torch_load
from tiny_cluster_contrast import REPO_ROOT
from toy_runner import build_toy_runner

#: ``python block_save.py WORK_DIR N`` trains the toy model with the hook
#: under test (``max_keep_ckpts=1``) and blocks inside the ``N``-th atomic
#: save, after the data is written and before the rename.
BLOCK_SAVE = '''
import os
import sys
import time
from pathlib import Path

from toy_runner import build_toy_runner

work_dir, at_save = sys.argv[1], int(sys.argv[2])
fsync, calls = os.fsync, [0]


def slow_fsync(fd):
    fsync(fd)
    calls[0] += 1
    if calls[0] == at_save:
        Path(work_dir, 'blocked').touch()
        time.sleep(600)


os.fsync = slow_fsync
build_toy_runner(work_dir).train()
'''


@pytest.mark.slow
def test_sigkill_during_a_save_leaves_the_previous_checkpoint(tmp_path):
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    (tmp_path / 'block_save.py').write_text(BLOCK_SAVE)
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(REPO_ROOT / 'tests'),
                                    str(REPO_ROOT)]),
        CUDA_VISIBLE_DEVICES='')
    # Atomic saves: epoch_1.pth, last_checkpoint, then epoch_2.pth (blocked).
    proc = subprocess.Popen(
        [sys.executable, str(tmp_path / 'block_save.py'),
         str(work_dir), '3'],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True)
    try:
        deadline = time.monotonic() + 60
        while not (work_dir / 'blocked').exists():
            assert proc.poll() is None, proc.communicate()[0][-3000:]
            assert time.monotonic() < deadline, 'the save never blocked'
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL

    # Killed while epoch_2.pth was written: with max_keep_ckpts=1, epoch_1
    # is still there (deleted only after its successor), complete, and
    # last_checkpoint points at it.
    leftovers = list(work_dir.glob('.epoch_2.pth.*.tmp'))
    assert len(leftovers) == 1
    assert not (work_dir / 'epoch_2.pth').exists()
    latest = find_latest_checkpoint(str(work_dir))
    assert latest == str(work_dir / 'epoch_1.pth')
    ckpt = safe_torch_load(latest)
    assert ckpt['meta']['epoch'] == 1

    # --resume continues from it and clears the leftover.
    runner = build_toy_runner(work_dir, resume=True)
    runner.train()
    assert runner.epoch == 3
    assert not list(work_dir.glob('.*.tmp'))
    assert sorted(p.name for p in work_dir.glob('*.pth')) == ['epoch_3.pth']
    assert find_latest_checkpoint(str(work_dir)).endswith('epoch_3.pth')


def test_failure_while_pointing_last_checkpoint_keeps_the_old_pointer(
        tmp_path, monkeypatch):
    work_dir = tmp_path / 'work'
    runner = build_toy_runner(work_dir)
    replace = os.replace

    def fail_on_pointer(src, dst):
        if os.path.basename(dst) == 'last_checkpoint' and \
                (work_dir / 'epoch_2.pth').exists():
            raise OSError('disk full')
        replace(src, dst)

    monkeypatch.setattr(os, 'replace', fail_on_pointer)
    with pytest.raises(OSError, match='disk full'):
        runner.train()
    # epoch_2 was written but the pointer still names epoch_1, which was
    # not deleted: pruning comes after the pointer.
    assert find_latest_checkpoint(str(work_dir)).endswith('epoch_1.pth')
    assert (work_dir / 'epoch_1.pth').exists()
    assert safe_torch_load(work_dir / 'epoch_1.pth')


def test_keeps_max_keep_ckpts_newest(tmp_path):
    work_dir = tmp_path / 'work'
    build_toy_runner(
        work_dir, checkpoint=dict(interval=1, max_keep_ckpts=2)).train()
    assert sorted(p.name for p in work_dir.glob('*.pth')) == [
        'epoch_2.pth', 'epoch_3.pth'
    ]
    assert (work_dir / 'last_checkpoint').read_text() == str(
        work_dir / 'epoch_3.pth')
