"""NonFiniteLossHook: a NaN loss stops the run before reaching the weights."""
import os.path as osp

import pytest
import torch
from gloo_ranks import run_on_gloo_ranks

from mmreid_unsup.engine import build_runner, load_checkpoint
from mmreid_unsup.engine.hooks import NonFiniteLossError, NonFiniteLossHook
from mmreid_unsup.models import ClusterContrast
from mmreid_unsup.registry import MODELS
from tiny_cluster_contrast import tiny_cfg


@MODELS.register_module(force=True)
class NaNLossAtIterClusterContrast(ClusterContrast):
    """Cluster-Contrast whose ``loss_contrast`` is ``value`` at one call."""

    def __init__(self, *args, bad_call: int = -1, value: float = float('nan'),
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.bad_call = bad_call
        self.value = value
        self.calls = 0

    def loss(self, inputs, data_samples):
        losses = super().loss(inputs, data_samples)
        if self.calls == self.bad_call:
            losses['loss_contrast'] = losses['loss_contrast'] * self.value
        self.calls += 1
        return losses


def _cfg(root, work_dir, bad_call, value=float('nan')):
    cfg = tiny_cfg(root, work_dir)
    cfg.model.type = 'NaNLossAtIterClusterContrast'
    cfg.model.bad_call = bad_call
    cfg.model.value = value
    # As configs/_base_/default_runtime.py enables it for every config.
    cfg.default_hooks.non_finite_loss = dict(type='NonFiniteLossHook')
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    return cfg


def _all_finite(state_dict):
    return all(
        torch.isfinite(v).all() for v in state_dict.values()
        if torch.is_floating_point(v))


@pytest.mark.slow
def test_nan_loss_stops_the_run_and_keeps_the_last_checkpoint(
        tiny_synthetic_root, tmp_path):
    # 4 iterations per epoch: call 5 is epoch 2, iter 2 (global iter 6).
    runner = build_runner(_cfg(tiny_synthetic_root, tmp_path, bad_call=5))
    with pytest.raises(NonFiniteLossError) as excinfo:
        runner.train()
    message = str(excinfo.value)
    assert 'epoch 2, iter 2/4 (global iteration 6)' in message
    assert 'loss_contrast=nan' in message
    assert 'before the optimizer step' in message
    epoch_1 = osp.join(tmp_path, 'epoch_1.pth')
    assert f'the last checkpoint is {epoch_1}' in message

    # The weights in memory were never updated with the NaN ...
    assert _all_finite(runner.model.state_dict())
    # ... and no checkpoint was written after it.
    assert osp.isfile(epoch_1)
    assert not osp.exists(osp.join(tmp_path, 'epoch_2.pth'))
    # The checkpoint from before loads, with finite weights.
    fresh = MODELS.build(runner.cfg.model)
    checkpoint = load_checkpoint(fresh, epoch_1, logger='silent')
    assert checkpoint['meta']['epoch'] == 1
    assert _all_finite(fresh.state_dict())
    for name, value in fresh.state_dict().items():
        if torch.is_floating_point(value) and value.numel():
            assert torch.equal(value, checkpoint['state_dict'][name])


def test_inf_before_the_first_checkpoint(tiny_synthetic_root, tmp_path):
    runner = build_runner(
        _cfg(tiny_synthetic_root, tmp_path, bad_call=0, value=float('inf')))
    with pytest.raises(NonFiniteLossError) as excinfo:
        runner.train()
    message = str(excinfo.value)
    assert 'epoch 1, iter 1/4 (global iteration 1)' in message
    assert 'loss_contrast=inf' in message
    assert 'no checkpoint had been saved yet' in message
    assert not list(tmp_path.glob('*.pth'))


def _tiny_reid_model():
    """A BaseReIDModel small enough to build in a test."""
    from mmreid_unsup.models import BaseReIDModel
    return BaseReIDModel(
        backbone=dict(type='ReIDResNet', depth=18),
        neck=dict(type='GeneralizedMeanPooling'))


def test_the_model_checks_its_losses_while_the_hook_runs():
    """The hook gives the model its check (the model's own parse_losses
    calls it); finite losses pass through unchanged; after training the
    check is taken back and the model is as it was."""
    from types import SimpleNamespace

    model = _tiny_reid_model()
    runner = SimpleNamespace(model=model, logger=None)
    hook = NonFiniteLossHook()
    hook.before_train(runner)
    assert 'parse_losses' not in vars(model)  # nothing patched
    losses = dict(loss_a=torch.tensor([1.0, 3.0]), acc=torch.tensor(0.5))
    loss, log_vars = model.parse_losses(losses)
    assert float(loss) == 2.0 and float(log_vars['acc']) == 0.5
    with pytest.raises(NonFiniteLossError, match='loss_a=nan'):
        model.parse_losses(dict(loss_a=torch.tensor(float('nan'))))
    hook.after_train(runner)  # no check any more
    assert torch.isnan(
        model.parse_losses(dict(loss_a=torch.tensor(float('nan'))))[0])
    assert float(model.parse_losses(losses)[0]) == 2.0


def test_a_model_without_the_contract_is_checked_after_the_step():
    """Another BaseModel: nothing is changed on it; the logged losses are
    checked in after_train_iter, and the message says so."""
    from types import SimpleNamespace

    from mmengine.model import BaseModel

    class Model(BaseModel):

        def forward(self, inputs, data_samples=None, mode='tensor'):
            return inputs

    model = Model()
    warnings = []
    runner = SimpleNamespace(
        model=model, logger=SimpleNamespace(warning=warnings.append))
    hook = NonFiniteLossHook()
    hook.before_train(runner)
    assert not vars(model).get('parse_losses')
    assert any('checked after the optimizer step' in w for w in warnings)
    hook.before_train_iter(runner, 0)
    with pytest.raises(NonFiniteLossError, match='after the optimizer step'):
        hook.after_train_iter(
            runner, 0, outputs=dict(loss=torch.tensor(float('inf'))))


def test_check_names_the_term_and_skips_non_loss_entries():
    hook = NonFiniteLossHook()
    hook.check(dict(loss=torch.tensor(1.0), acc=torch.tensor(float('nan'))),
               before_step=True)  # not a loss: never summed, never checked
    with pytest.raises(NonFiniteLossError) as excinfo:
        hook.check(
            dict(loss=torch.tensor(float('nan')),
                 loss_a=torch.tensor(1.0),
                 loss_b=torch.tensor(float('-inf'))),
            before_step=False)
    message = str(excinfo.value)
    assert 'loss_b=-inf' in message and 'loss_a' not in message
    assert 'after the optimizer step' in message


def _check_on_rank(rank: int) -> str:
    """One of two gloo ranks: rank 1 has a NaN loss, rank 0 a finite one."""
    hook = NonFiniteLossHook()
    value = float('nan') if rank == 1 else 1.0
    try:
        hook.check(dict(loss=torch.tensor(value),
                        loss_contrast=torch.tensor(value)), before_step=True)
    except NonFiniteLossError as err:
        return str(err)
    return 'no error'


@pytest.mark.dist
def test_every_rank_stops_and_names_the_faulty_rank():
    """Under DDP the check is all-gathered: rank 0 stops too, no hang."""
    results = run_on_gloo_ranks(_check_on_rank)
    for rank in (0, 1):
        assert 'loss_contrast not finite on rank(s) 1' in results[rank]
    assert '(on this rank: nan)' in results[1]
