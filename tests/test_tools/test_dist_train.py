"""``tools/dist_train.sh CONFIG 2`` on CPU: two gloo processes, one epoch."""
import json
import textwrap

import torch

from tiny_cluster_contrast import REPO_ROOT, run_dist_train

PROBE = '''
import json, os
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmreid_unsup.registry import HOOKS


@HOOKS.register_module()
class RankProbeHook(Hook):
    """Writes what this rank trained on and its final labels and memory."""

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
        model = model.module if is_model_wrapper(model) else model
        rank = get_rank()
        torch.save(
            dict(labels=model.pseudo_labels, bank=model.head.memory.bank),
            os.path.join(self.out_dir, f'rank{rank}.pth'))
        with open(os.path.join(self.out_dir, f'rank{rank}.json'), 'w') as f:
            json.dump(dict(batches=self.batches, wrapper=wrapped,
                           world_size=runner.world_size), f)
'''


def test_dist_train_two_gloo_processes(tiny_synthetic_root, tmp_path):
    (tmp_path / 'rank_probe.py').write_text(PROBE)
    config = tmp_path / 'ddp_cfg.py'
    config.write_text(textwrap.dedent(f'''
        _base_ = ['{REPO_ROOT}/tests/data/configs/tiny_synthetic.py']
        data_root = '{tiny_synthetic_root}'
        train_dataloader = dict(dataset=dict(data_root=data_root))
        cluster_dataloader = dict(dataset=dict(data_root=data_root))
        val_dataloader = dict(dataset=dict(data_root=data_root))
        test_dataloader = dict(dataset=dict(data_root=data_root))
        train_cfg = dict(max_epochs=1, val_interval=1)
        custom_imports = dict(imports=['rank_probe'])
        custom_hooks = [
            dict(type='ClusterRefreshHook', progress=False,
                 labeler=dict(type='DBSCANLabeler', k1=6, k2=2, eps=0.6,
                              min_samples=2)),
            dict(type='MemoryMomentumHook'),
            dict(type='RankProbeHook', out_dir='{tmp_path}'),
        ]
        '''))
    proc = run_dist_train(config, tmp_path)
    assert proc.returncode == 0, proc.stderr[-4000:]

    states = [torch.load(tmp_path / f'rank{r}.pth') for r in (0, 1)]
    infos = [json.loads((tmp_path / f'rank{r}.json').read_text())
             for r in (0, 1)]
    assert [i['world_size'] for i in infos] == [2, 2]
    assert infos[0]['wrapper'] == 'ReIDDistributedDataParallel'
    # Identical pseudo labels and memory on both ranks.
    assert states[0]['labels'].numel() > 0
    assert torch.equal(states[0]['labels'], states[1]['labels'])
    assert states[0]['bank'].shape[0] == int(states[0]['labels'].max()) + 1
    assert torch.equal(states[0]['bank'], states[1]['bank'])
    # Each rank trained its own batches: same count, different content.
    b0, b1 = infos[0]['batches'], infos[1]['batches']
    assert len(b0) == len(b1) == 4
    assert all(x != y for x, y in zip(b0, b1))
    # The final validation metric was computed over both ranks' shards.
    assert 'reid/mAP' in proc.stdout + proc.stderr
