"""PPSSL under ``tools/dist_train.sh CONFIG 2`` on CPU: the pseudo pairs are
found on rank 0 and broadcast, so both gloo processes hold the same partner
matrix and the same memories."""
import json

import torch

from tiny_cluster_contrast import run_dist_train
from tiny_ppssl import write_tiny_ppssl_config

PROBE = '''
import json, os
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmreid_unsup.registry import HOOKS


@HOOKS.register_module()
class PPSSLRankProbeHook(Hook):
    """Writes this rank's batches, pairs and memories."""

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
        model = model.module if is_model_wrapper(model) else model
        rank = get_rank()
        torch.save(
            dict(pairs=model.pseudo_labels,
                 g=model.head.global_memory.bank,
                 p=model.head.patch_memory.bank),
            os.path.join(self.out_dir, f'rank{rank}.pth'))
        with open(os.path.join(self.out_dir, f'rank{rank}.json'), 'w') as f:
            json.dump(dict(batches=self.batches,
                           world_size=runner.world_size), f)
'''


def test_dist_train_ppssl_two_gloo_processes(tiny_synthetic_root, tmp_path):
    (tmp_path / 'ppssl_rank_probe.py').write_text(PROBE)
    config = write_tiny_ppssl_config(
        tiny_synthetic_root, tmp_path / 'ddp_ppssl_cfg.py', f'''
        train_cfg = dict(max_epochs=2, val_interval=2)
        custom_imports = dict(imports=['ppssl_rank_probe'])
        custom_hooks = [
            dict(type='ClusterRefreshHook', progress=False,
                 labeler=dict(type='PseudoPairLabeler', max_partners=3,
                              camera_penalty=0.3)),
            dict(type='MemoryMomentumHook'),
            dict(type='PPSSLRankProbeHook', out_dir='{tmp_path}'),
        ]
        ''')
    proc = run_dist_train(config, tmp_path)
    assert proc.returncode == 0, proc.stderr[-4000:]

    states = [torch.load(tmp_path / f'rank{r}.pth') for r in (0, 1)]
    infos = [json.loads((tmp_path / f'rank{r}.json').read_text())
             for r in (0, 1)]
    assert [i['world_size'] for i in infos] == [2, 2]
    pairs = states[0]['pairs']
    assert pairs.dim() == 2 and (pairs >= 0).any()
    for key in ('pairs', 'g', 'p'):
        assert torch.equal(states[0][key], states[1][key]), key
    b0, b1 = infos[0]['batches'], infos[1]['batches']
    assert len(b0) == len(b1) == 8
    # Each rank trains its own batches.
    assert b0 != b1
    assert 'reid/mAP' in proc.stdout + proc.stderr
