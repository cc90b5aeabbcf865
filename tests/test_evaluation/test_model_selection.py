"""Model selection on held-out training identities, not on the test set:
CheckpointHook(save_best='reid/mAP') on the validation loop."""
import glob
import os.path as osp

import pytest
from mmengine.hooks import Hook

from mmreid_unsup.engine import build_runner
from mmreid_unsup.utils import safe_torch_load
from tiny_cluster_contrast import tiny_cfg as tiny_config


class ValProbe(Hook):
    """Records what each validation ran on and what it measured."""

    priority = 'LOWEST'

    def __init__(self):
        self.maps, self.pids = [], []

    def after_val_epoch(self, runner, metrics=None):
        self.maps.append(metrics['reid/mAP'])
        self.pids.append(set(runner.val_dataloader.dataset.get_pids()))


@pytest.mark.slow
@pytest.mark.filterwarnings('ignore::UserWarning')
def test_best_checkpoint_is_chosen_on_held_out_identities(
        tiny_synthetic_root, tmp_path):
    holdout = dict(num_holdout_ids=4, holdout_seed=0)
    cfg = tiny_config(
        tiny_synthetic_root,
        tmp_path,
        train_dataloader=dict(
            dataset=holdout, sampler=dict(iters_per_epoch=1)),
        cluster_dataloader=dict(dataset=holdout),
        val_dataloader=dict(dataset=dict(split='holdout', **holdout)),
        train_cfg=dict(max_epochs=2, val_interval=1),
        default_hooks=dict(
            checkpoint=dict(
                type='CheckpointHook',
                interval=100,  # only the best one
                save_best='reid/mAP',
                rule='greater')))
    runner = build_runner(cfg)
    probe = ValProbe()
    runner.register_hook(probe)
    runner.train()

    train_pids = set(runner.train_dataloader.dataset.get_pids())
    test_pids = set(runner.test_dataloader.dataset.get_pids())
    assert len(probe.maps) == 2
    for pids in probe.pids:
        assert len(pids) == 4
        assert not pids & train_pids and not pids & test_pids
    best = glob.glob(osp.join(str(tmp_path), 'best_reid_mAP_epoch_*.pth'))
    assert len(best) == 1
    best_epoch = int(best[0].rsplit('_', 1)[1][:-4])
    assert probe.maps[best_epoch - 1] == max(probe.maps)
    meta = safe_torch_load(best[0])['meta']
    assert meta['epoch'] == best_epoch
