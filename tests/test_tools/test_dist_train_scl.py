"""SCL under ``tools/dist_train.sh CONFIG 2`` on CPU: two gloo processes keep
identical memories."""
import json

import torch

from tiny_cluster_contrast import run_dist_train
from tiny_scl import write_tiny_scl_config

PROBE = '''
import json, os
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmreid_unsup.registry import HOOKS


@HOOKS.register_module()
class SCLRankProbeHook(Hook):
    """Writes what this rank trained on and its final memories."""

    priority = 'LOWEST'

    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.batches = []

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.batches.append(
            [s.sample_idx for s in data_batch['data_samples']])

    def after_train(self, runner):
        model = runner.model
        wrapped = type(model).__name__
        head = (model.module if is_model_wrapper(model) else model).head
        rank = get_rank()
        torch.save(
            dict(g=head.global_memory.bank, l=head.local_memory.bank,
                 m=head.mixture_memory.bank, camids=head.camids),
            os.path.join(self.out_dir, f'rank{rank}.pth'))
        with open(os.path.join(self.out_dir, f'rank{rank}.json'), 'w') as f:
            json.dump(dict(batches=self.batches, wrapper=wrapped,
                           world_size=runner.world_size), f)
'''


def test_dist_train_scl_two_gloo_processes(tiny_synthetic_root, tmp_path):
    (tmp_path / 'scl_rank_probe.py').write_text(PROBE)
    config = write_tiny_scl_config(
        tiny_synthetic_root, tmp_path / 'ddp_scl_cfg.py', f'''
        train_cfg = dict(max_epochs=1, val_interval=1)
        model = dict(head=dict(selector=dict(warmup_epochs=0)))
        custom_imports = dict(imports=['scl_rank_probe'])
        custom_hooks = [
            dict(type='InstanceMemoryHook', progress=False),
            dict(type='MemoryMomentumHook'),
            dict(type='SCLRankProbeHook', out_dir='{tmp_path}'),
        ]
        ''')
    proc = run_dist_train(config, tmp_path)
    assert proc.returncode == 0, proc.stderr[-4000:]

    states = [torch.load(tmp_path / f'rank{r}.pth') for r in (0, 1)]
    infos = [json.loads((tmp_path / f'rank{r}.json').read_text())
             for r in (0, 1)]
    assert [i['world_size'] for i in infos] == [2, 2]
    assert infos[0]['wrapper'] == 'ReIDDistributedDataParallel'
    for key in ('g', 'l', 'm', 'camids'):
        assert torch.equal(states[0][key], states[1][key]), key
    # Each rank trained its own batches, and both ranks' batches moved the
    # (shared) mixture memory: the entries of every trained image.
    b0, b1 = infos[0]['batches'], infos[1]['batches']
    assert len(b0) == len(b1) == 4
    assert not set(sum(b0, [])) & set(sum(b1, []))
    trained = sorted(set(sum(b0, []) + sum(b1, [])))
    assert (states[0]['m'][trained] != 0).any(1).all()
    assert 'scl/mAP' in proc.stdout + proc.stderr
