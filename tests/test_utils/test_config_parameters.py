"""config_parameters: a constructor's own parameters plus those of where its
**kwargs go (base class, Runner.save_checkpoint, the EMA model)."""
from mmengine.hooks import CheckpointHook, EMAHook
from mmengine.optim import (AmpOptimWrapper, MultiStepLR,
                            ZeroRedundancyOptimizer)
from mmengine.registry import init_default_scope

from mmreid_unsup.engine.hooks import AtomicCheckpointHook
from mmreid_unsup.engine.runners import ResumableEpochBasedTrainLoop
from mmreid_unsup.utils.config_parameters import (FORWARDING,
                                                  config_parameters,
                                                  init_owner)


def test_checkpoint_hook_kwargs_accept_nothing_more():
    # Runner.save_checkpoint takes nothing the hook does not pass itself.
    for cls in (CheckpointHook, AtomicCheckpointHook):
        params = config_parameters(cls)
        assert params.complete and params.takes_kwargs
        assert 'interval' in params.names and 'intervl' not in params.names
        assert 'meta' not in params.names and 'filename' not in params.names


def test_base_class_forwarding():
    loop = config_parameters(ResumableEpochBasedTrainLoop)
    assert loop.complete
    assert loop.names == ('runner', 'dataloader', 'max_epochs', 'val_begin',
                          'val_interval', 'dynamic_intervals')
    assert loop.hints['max_epochs'] is int
    amp = config_parameters(AmpOptimWrapper)
    assert {'loss_scale', 'optimizer', 'accumulative_counts',
            'clip_grad'} <= set(amp.names)
    # The mixin passes param_name itself: not a config key.
    lr = config_parameters(MultiStepLR)
    assert 'milestones' in lr.names and 'param_name' not in lr.names


def test_target_of_a_config_value():
    init_default_scope('mmreid_unsup')
    ema = config_parameters(EMAHook, dict(ema_type='ExponentialMovingAverage'))
    assert ema.complete and {'momentum', 'interval'} <= set(ema.names)
    assert 'model' not in ema.names  # filled by the hook


def test_unknown_kwargs_are_not_claimed():
    zero = config_parameters(ZeroRedundancyOptimizer)
    assert not zero.complete  # kwargs go to any optimizer type: unchecked


def test_every_entry_names_a_class_that_takes_kwargs():
    # The table's names are the classes that define these __init__ (a
    # renamed or moved class in a new MMEngine would leave an entry dead).
    from mmengine.optim import ApexOptimWrapper
    from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin
    from mmengine.optim.scheduler.momentum_scheduler import \
        MomentumSchedulerMixin
    classes = [CheckpointHook, EMAHook, AmpOptimWrapper, ApexOptimWrapper,
               LRSchedulerMixin, MomentumSchedulerMixin,
               ResumableEpochBasedTrainLoop]
    owners = {f'{c.__module__}.{c.__qualname__}'
              for c in (init_owner(cls)[1] for cls in classes)}
    assert owners == set(FORWARDING)
