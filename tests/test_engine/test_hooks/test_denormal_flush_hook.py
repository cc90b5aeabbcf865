"""DenormalFlushHook: the loaded weights are flushed before training and
evaluation, and each epoch's checkpoint holds the flushed weights."""
import torch
from mmengine.hooks import Hook

from mmreid_unsup.engine.hooks import DenormalFlushHook
from mmreid_unsup.registry import HOOKS
from mmreid_unsup.utils import safe_torch_load
from toy_runner import build_toy_runner

TINY = torch.finfo(torch.float32).tiny


class DecayIntoDenormals(Hook):
    """Within each epoch, let a buffer decay into the denormal range."""

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        runner.model.dead.fill_(TINY / 4)


def test_registered_with_the_highest_priority():
    hook = HOOKS.build(dict(type='DenormalFlushHook'))
    assert isinstance(hook, DenormalFlushHook)
    # Before CheckpointHook (VERY_LOW) saves an epoch's weights.
    assert hook.priority == 'VERY_HIGH'


def test_before_train_val_and_test_flush(tmp_path):
    runner = build_toy_runner(tmp_path)
    weight = runner.model.linear.weight
    hook = DenormalFlushHook()
    for method in (hook.before_train, hook.before_val, hook.before_test):
        with torch.no_grad():
            weight[0, :3] = TINY / 4
            weight[1, 0] = -TINY / 2
        normal = weight[2:].clone()
        method(runner)
        assert bool((weight[0, :3] == 0).all())
        assert float(weight[1, 0]) == 0.0
        assert torch.equal(weight[2:], normal)
    assert hook.flush(runner) == 0


def test_each_epoch_checkpoint_holds_flushed_weights(tmp_path):
    runner = build_toy_runner(
        tmp_path,
        max_epochs=2,
        checkpoint=dict(interval=1, max_keep_ckpts=2),
        custom_hooks=[
            dict(type='DenormalFlushHook'),
            DecayIntoDenormals(),
        ])
    runner.model.register_buffer('dead', torch.full((3, ), TINY / 4))
    runner.train()
    for epoch in (1, 2):
        state = safe_torch_load(
            str(tmp_path / f'epoch_{epoch}.pth'), map_location='cpu')
        assert torch.equal(state['state_dict']['dead'], torch.zeros(3))
    assert torch.equal(runner.model.dead, torch.zeros(3))
