"""A run killed with SIGKILL in mid-epoch and resumed with ``--resume`` ends
exactly where an uninterrupted run ends, in one process and under DDP.

Three real runs on the tiny synthetic set (deterministic CPU mode, two
persistent dataloader workers with random flips and crops): an
uninterrupted reference, a run killed right after its checkpoint at
iteration 9 (in the middle of epoch 1, after that epoch's re-clustering),
and ``--resume`` of the killed run. The killed run pauses in the iteration
after that checkpoint (a test hook) so that the kill lands inside training,
never after it. Each run is ``tools/train.py`` or, for DDP,
``tools/dist_train.sh CONFIG 2`` (two gloo processes); the kill goes to the
whole process group, as a node failure would.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from mmreid_unsup.utils import safe_torch_load
from tiny_cluster_contrast import (REPO_ROOT, dist_train_command,
                                   dist_train_env, free_port)

PAUSE_HOOK = '''
import time
from pathlib import Path

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmreid_unsup.registry import HOOKS


@HOOKS.register_module()
class PauseAfterCheckpointHook(Hook):
    """Stops in the iteration after the checkpoint of iteration ``after``
    until the test kills the process. Rank 0, which writes checkpoints,
    leaves the marker file once its save is done."""

    priority = 'LOWEST'

    def __init__(self, after, marker):
        self.after = after
        self.marker = marker

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == self.after:
            if is_main_process():
                Path(self.marker).touch()
            time.sleep(600)
'''

RECIPE = '''
_base_ = ['{repo}/tests/data/configs/tiny_synthetic.py']
data_root = '{data_root}'
train_dataloader = dict(
    num_workers=2,
    persistent_workers=True,
    sampler=dict(iters_per_epoch=6),
    dataset=dict(data_root=data_root))
cluster_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
train_cfg = dict(max_epochs=2, val_interval=2)
default_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=3, max_keep_ckpts=2))
randomness = dict(seed=3, deterministic=True)
'''

KILLED = '''
_base_ = ['./recipe.py']
custom_imports = dict(imports=['pause_hook'], allow_failed_imports=False)
custom_hooks = [
    dict(type='ClusterRefreshHook', progress=False,
         labeler=dict(type='DBSCANLabeler', k1=6, k2=2, eps=0.6,
                      min_samples=2)),
    dict(type='MemoryMomentumHook'),
    dict(type='PauseAfterCheckpointHook', after=9, marker='{marker}'),
]
'''

#: 2 epochs x 6 iterations; checkpoints every 3 iterations.
LAST_ITER = 12


def _train(config: Path, work_dir: Path, env: dict, nproc: int,
           *extra: str) -> subprocess.Popen:
    """``tools/train.py`` (``nproc=1``) or ``tools/dist_train.sh`` with
    ``nproc`` gloo processes, in a process group of its own."""
    if nproc == 1:
        cmd = [sys.executable, 'tools/train.py', str(config), '--work-dir',
               str(work_dir)]
    else:
        cmd = dist_train_command(config, work_dir, nproc)
        env = dict(env, PORT=str(free_port()))
    return subprocess.Popen(
        cmd + list(extra),
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True)


def _descendants(pid: int) -> list:
    """Every process below ``pid`` (Linux ``/proc``): torchrun starts its
    workers in sessions of their own, out of reach of ``killpg``."""
    children = {}
    for stat in Path('/proc').glob('[0-9]*/stat'):
        try:
            fields = stat.read_text().rsplit(')', 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL ``proc`` and everything it started, at once (a node dies)."""
    for pid in [proc.pid] + _descendants(proc.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _finish(proc: subprocess.Popen, timeout: float = 240) -> str:
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out[-3000:]
    return out


def _scalars(work_dir: Path) -> dict:
    """``{step: record}`` of every run's ``scalars.json`` in a work dir,
    later runs overwriting earlier ones."""
    records = {}
    for path in sorted(work_dir.glob('*/vis_data/scalars.json')):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            kind = 'val' if any(k.startswith('reid/') for k in record) \
                else 'train'
            records[(kind, record['step'])] = record
    return records


@pytest.mark.dist
@pytest.mark.slow
@pytest.mark.parametrize('nproc', [1, 2], ids=['one-process', 'ddp-2-gloo'])
def test_sigkill_in_mid_epoch_then_resume_equals_uninterrupted_run(
        tiny_synthetic_root, tmp_path, nproc):
    start = time.monotonic()
    (tmp_path / 'pause_hook.py').write_text(PAUSE_HOOK)
    recipe = tmp_path / 'recipe.py'
    recipe.write_text(
        RECIPE.format(repo=REPO_ROOT, data_root=tiny_synthetic_root))
    marker = tmp_path / 'paused'
    killed_cfg = tmp_path / 'killed.py'
    killed_cfg.write_text(KILLED.format(marker=marker))
    env = dist_train_env(tmp_path)
    # One thread per process: the two runs side by side fill the 2 cores, and
    # OpenMP threads do not spin against each other (or other jobs).
    env['OMP_NUM_THREADS'] = '1'
    ref_dir, run_dir = tmp_path / 'reference', tmp_path / 'run'

    # The reference and the run to be killed, side by side.
    reference = _train(recipe, ref_dir, env, nproc)
    victim = _train(killed_cfg, run_dir, env, nproc)
    try:
        while not marker.exists():
            assert victim.poll() is None, victim.communicate()[0][-3000:]
            assert time.monotonic() - start < 240, 'the run never paused'
            time.sleep(0.05)
        _kill_group(victim)
        victim.communicate(timeout=30)
    finally:
        if victim.poll() is None:
            _kill_group(victim)
        if reference.poll() is None and victim.returncode != -signal.SIGKILL:
            _kill_group(reference)
    assert victim.returncode == -signal.SIGKILL
    assert (run_dir / 'last_checkpoint').read_text().endswith('iter_9.pth')
    assert not (run_dir / f'iter_{LAST_ITER}.pth').exists()

    # --resume of the killed run (the recipe, without the pause).
    log = _finish(_train(recipe, run_dir, env, nproc, '--resume'))
    _finish(reference)
    assert 'Resuming epoch 1 at batch 3 of 6 (iteration 9)' in log
    assert 'using the pseudo labels of epoch 1 restored' in log
    assert log.count('ClusterRefreshHook epoch') == 0  # no re-clustering

    ref = safe_torch_load(ref_dir / f'iter_{LAST_ITER}.pth')
    got = safe_torch_load(run_dir / f'iter_{LAST_ITER}.pth')
    assert got['meta']['iter'] == ref['meta']['iter'] == LAST_ITER
    # Weights, memory bank, pseudo labels, BN statistics: bit for bit.
    assert ref['state_dict'].keys() == got['state_dict'].keys()
    for key, value in ref['state_dict'].items():
        assert torch.equal(got['state_dict'][key], value), key
    assert ref['state_dict']['pseudo_labels'].numel() > 0
    assert ref['meta']['pseudo_labels'] == got['meta']['pseudo_labels']
    for key, value in ref['optimizer']['state'].items():
        assert torch.equal(got['optimizer']['state'][key]['exp_avg'],
                           value['exp_avg'])
    # The random streams went on as if nothing had happened.
    ref_state, got_state = (ref['meta']['random_states'],
                            got['meta']['random_states'])
    assert torch.equal(ref_state['torch'], got_state['torch'])
    assert ref_state['numpy'] == got_state['numpy']
    assert ref_state['python'] == got_state['python']

    # The same losses after the resume point and the same final metrics.
    ref_scalars, got_scalars = _scalars(ref_dir), _scalars(run_dir)
    for step in range(10, LAST_ITER + 1):
        assert got_scalars[('train', step)]['loss'] == \
            ref_scalars[('train', step)]['loss'], step
    ref_val = ref_scalars[('val', 2)]
    assert ref_val['reid/mAP'] > 0
    assert {k: v for k, v in got_scalars[('val', 2)].items() if 'time' not
            in k} == {k: v for k, v in ref_val.items() if 'time' not in k}
    assert not list(run_dir.glob('.*.tmp'))
