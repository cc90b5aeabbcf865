"""DenormalFlushHook: loaded weights are flushed before training and
evaluation, and every checkpoint (epoch or iteration) holds flushed
weights."""
import torch
from mmengine.hooks import Hook
from mmengine.runner import get_priority

from mmreid_unsup.engine.hooks import DenormalFlushHook, SyncNormStatsHook
from mmreid_unsup.registry import HOOKS
from mmreid_unsup.utils import safe_torch_load
from toy_runner import ToyModel, build_toy_runner

TINY = torch.finfo(torch.float32).tiny


class DecayIntoDenormals(Hook):
    """After each iteration, let a buffer decay into the denormal range
    (at the default priority, so before the flush)."""

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        runner.model.dead.fill_(TINY / 4)


class RecordStartWeights(Hook):
    """What the loop starts from, after every other ``before_train``."""

    priority = 'LOWEST'

    def before_train(self, runner):
        self.weight = runner.model.linear.weight.detach().clone()


def test_registered_between_the_statistics_sync_and_the_checkpoint():
    hook = HOOKS.build(dict(type='DenormalFlushHook'))
    assert isinstance(hook, DenormalFlushHook)
    priority = get_priority(hook.priority)
    assert get_priority(SyncNormStatsHook.priority) < priority
    assert priority < get_priority('VERY_LOW')  # CheckpointHook's


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


def test_weights_loaded_from_a_checkpoint_are_flushed(tmp_path):
    model = ToyModel()
    with torch.no_grad():
        model.linear.weight[0, :5] = TINY / 8
    torch.save(dict(state_dict=model.state_dict()), tmp_path / 'denormal.pth')
    record = RecordStartWeights()
    runner = build_toy_runner(
        tmp_path / 'run',
        max_epochs=1,
        load_from=str(tmp_path / 'denormal.pth'),
        custom_hooks=[dict(type='DenormalFlushHook'), record])
    runner.train()
    assert bool((record.weight[0, :5] == 0).all())
    assert torch.equal(record.weight[1:], model.linear.weight[1:])


def test_every_checkpoint_holds_flushed_weights(tmp_path):
    runner = build_toy_runner(
        tmp_path,
        max_epochs=2,
        checkpoint=dict(interval=1, by_epoch=False, max_keep_ckpts=10),
        custom_hooks=[
            dict(type='DenormalFlushHook'),
            DecayIntoDenormals(),
        ])
    runner.model.register_buffer('dead', torch.full((3, ), TINY / 4))
    runner.train()
    saved = sorted(tmp_path.glob('iter_*.pth'))
    assert len(saved) == 4  # 2 epochs of 2 iterations
    for path in saved:
        state = safe_torch_load(str(path), map_location='cpu')
        assert torch.equal(state['state_dict']['dead'], torch.zeros(3)), path
    assert torch.equal(runner.model.dead, torch.zeros(3))
