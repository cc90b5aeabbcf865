"""A rank that fails or stalls never hangs a 2-process gloo run.

``tools/dist_train.sh CONFIG 2`` on CPU, with a test hook that makes rank 1
raise (or sleep) at the start of the first epoch, while rank 0 goes on into
the cluster refresh and waits for rank 1 in a collective.
"""
import os
import re
import subprocess
import textwrap
import time

import pytest

from tiny_cluster_contrast import (REPO_ROOT, dist_train_command,
                                  dist_train_env, load_script)

FAULT = '''
import time
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmreid_unsup.registry import HOOKS


@HOOKS.register_module()
class RankFaultHook(Hook):
    """Makes one rank raise or stall before the first train epoch."""

    priority = 'VERY_HIGH'  # before ClusterRefreshHook's collectives

    def __init__(self, rank, mode):
        self.rank = rank
        self.mode = mode

    def before_train_epoch(self, runner):
        if get_rank() != self.rank:
            return
        if self.mode == 'raise':
            raise RuntimeError(f'injected fault on rank {self.rank}')
        time.sleep(3600)  # stalls without dying
'''

#: The whole launch must end within this many seconds.
BOUND = 90


def _launch(data_root, tmp_path, mode, *cfg_options):
    (tmp_path / 'rank_fault.py').write_text(FAULT)
    config = tmp_path / 'fault_cfg.py'
    config.write_text(textwrap.dedent(f'''
        _base_ = ['{REPO_ROOT}/tests/data/configs/tiny_synthetic.py']
        data_root = '{data_root}'
        train_dataloader = dict(dataset=dict(data_root=data_root))
        cluster_dataloader = dict(dataset=dict(data_root=data_root))
        val_dataloader = dict(dataset=dict(data_root=data_root))
        test_dataloader = dict(dataset=dict(data_root=data_root))
        train_cfg = dict(max_epochs=1, val_interval=1)
        custom_imports = dict(imports=['rank_fault'])
        custom_hooks = [
            dict(type='RankFaultHook', rank=1, mode='{mode}'),
            dict(type='ClusterRefreshHook', progress=False,
                 labeler=dict(type='DBSCANLabeler', k1=6, k2=2, eps=0.6,
                              min_samples=2)),
            dict(type='MemoryMomentumHook'),
        ]
        '''))
    env = dist_train_env(tmp_path)
    args = dist_train_command(config, tmp_path / 'work')
    if cfg_options:
        args += ['--cfg-options', *cfg_options]
    start = time.monotonic()
    proc = subprocess.Popen(
        args,
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=BOUND)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)  # only the group this test started
        proc.communicate()
        pytest.fail(f'the launch hung for more than {BOUND} s')
    return proc.returncode, output, time.monotonic() - start


@pytest.mark.dist
def test_a_rank_that_dies_stops_the_others(tiny_synthetic_root, tmp_path):
    code, output, seconds = _launch(tiny_synthetic_root, tmp_path, 'raise')
    assert code != 0, output[-3000:]
    assert seconds < BOUND
    # torchrun's summary names the failing rank and, thanks to @record in
    # tools/train.py, its error.
    assert re.search(r'rank\s*: 1 \(local_rank: 1\)', output), output[-3000:]
    assert 'injected fault on rank 1' in output
    assert not (tmp_path / 'work' / 'epoch_1.pth').exists()


@pytest.mark.dist
def test_a_rank_that_stalls_hits_the_timeout(tiny_synthetic_root, tmp_path):
    """Rank 1 never reaches the collective: rank 0 fails after the timeout."""
    code, output, seconds = _launch(tiny_synthetic_root, tmp_path, 'sleep',
                                    'env_cfg.dist_cfg.timeout=10')
    assert code != 0, output[-3000:]
    assert seconds < BOUND
    assert re.search(r'rank\s*: 0 \(local_rank: 0\)', output), output[-3000:]
    # gloo's own error: the 10 s of env_cfg.dist_cfg.timeout, not 30 min.
    assert 'Timed out waiting 10000ms' in output, output[-3000:]


def test_dist_timeout_comes_from_the_config():
    train = load_script(REPO_ROOT / 'tools' / 'train.py', 'train_tool')
    from mmengine.config import Config
    assert train.dist_timeout(None) == train.DEFAULT_DIST_TIMEOUT == 1800
    assert train.dist_timeout(Config(dict(env_cfg=dict()))) == 1800
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='gloo',
                                                 timeout=60))))
    assert train.dist_timeout(cfg) == 60
    cfg.env_cfg.dist_cfg.timeout = 0
    with pytest.raises(ValueError, match='timeout'):
        train.dist_timeout(cfg)
