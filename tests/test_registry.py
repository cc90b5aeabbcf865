"""Config mistakes give errors that name the key or type and suggest a fix."""
import pytest
from mmengine.registry import Registry, build_from_cfg, init_default_scope

from mmreid_unsup.engine import build_runner
from mmreid_unsup.registry import (HOOKS, MODELS, PARAM_SCHEDULERS,
                                   PSEUDO_LABELERS)
from mmreid_unsup.utils.build_hints import (ConfigArgumentError,
                                            UnknownTypeError,
                                            build_with_hints)
from tiny_cluster_contrast import TINY_R18_CONFIG, tiny_cfg

LABELER = dict(type='DBSCANLabeler', k1=6, k2=2, eps=0.6, min_samples=2)


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('mmreid_unsup')


# -- unknown type ------------------------------------------------------------


@pytest.mark.parametrize('registry, cfg, expected', [
    (MODELS, dict(type='ClusterContrastt'), 'ClusterContrast'),
    (PSEUDO_LABELERS, dict(type='DBSCANLabelr'), 'DBSCANLabeler'),
    (HOOKS, dict(type='ClusterRefreshHok', labeler=LABELER),
     'ClusterRefreshHook'),
    # A name of the parent (MMEngine's root) registry is suggested too.
    (HOOKS, dict(type='CheckpointHok'), 'CheckpointHook'),
    # Case is ignored.
    (PSEUDO_LABELERS, dict(type='dbscanlabeler'), 'DBSCANLabeler'),
])
def test_unknown_type_suggests_the_nearest_name(registry, cfg, expected):
    with pytest.raises(UnknownTypeError) as excinfo:
        registry.build(cfg)
    message = str(excinfo.value)
    assert repr(cfg['type']) in message
    assert f'Did you mean {expected!r}' in message
    assert isinstance(excinfo.value, KeyError)  # as MMEngine raised before


def test_unknown_type_without_a_close_name_says_so():
    with pytest.raises(UnknownTypeError, match='No registered name is close'):
        MODELS.build(dict(type='Qwxzv'))


def test_unknown_nested_type_is_reported_with_its_own_name():
    cfg = dict(type='ClusterRefreshHook',
               labeler=dict(LABELER, type='DBSCANLabelr'))
    with pytest.raises(UnknownTypeError) as excinfo:
        HOOKS.build(cfg)
    assert "type='DBSCANLabelr'" in str(excinfo.value)
    assert "Did you mean 'DBSCANLabeler'" in str(excinfo.value)
    assert any('ClusterRefreshHook' in note
               for note in getattr(excinfo.value, '__notes__', []))


# -- misspelt key, missing key, wrong value type ----------------------------


def test_misspelt_key_names_it_and_the_nearest_parameter():
    with pytest.raises(ConfigArgumentError) as excinfo:
        PSEUDO_LABELERS.build(dict(LABELER, epss=0.6))
    message = str(excinfo.value)
    assert "DBSCANLabeler got an unexpected config key 'epss'" in message
    assert "did you mean 'eps'?" in message
    assert isinstance(excinfo.value, TypeError)


def test_misspelt_key_of_a_model():
    cfg = dict(
        type='ClusterContrast',
        backbone=dict(type='ReIDResNet', depth=18, init_cfg=None),
        neck=dict(type='BNNeck', in_channels=512),
        head=dict(
            type='ClusterContrastHead',
            memory=dict(type='ClusterMemory', feat_dim=512, momentum=0.1),
            loss=dict(type='InfoNCELoss', temperatur=0.05)))
    with pytest.raises(ConfigArgumentError,
                       match="InfoNCELoss got an unexpected config key "
                       "'temperatur' \\(did you mean 'temperature'"):
        MODELS.build(cfg)


def test_misspelt_key_of_a_hook():
    with pytest.raises(ConfigArgumentError,
                       match="'intervall' \\(did you mean 'interval'"):
        HOOKS.build(
            dict(type='ClusterRefreshHook', labeler=LABELER, intervall=2))


def test_missing_required_key_is_named():
    with pytest.raises(ConfigArgumentError, match='needs the config key.*'
                       'labeler'):
        HOOKS.build(dict(type='ClusterRefreshHook'))


@pytest.mark.parametrize('registry, cfg, key', [
    (PSEUDO_LABELERS, dict(LABELER, eps='0.6'), 'eps'),
    (HOOKS, dict(type='ClusterRefreshHook', labeler=LABELER,
                 interval='2'), 'interval'),
])
def test_wrong_value_type_names_the_key(registry, cfg, key):
    with pytest.raises(ConfigArgumentError) as excinfo:
        registry.build(cfg)
    message = str(excinfo.value)
    assert f'config key {key!r}' in message
    assert 'of type str' in message
    # The original error is chained, not lost.
    assert isinstance(excinfo.value.__cause__, TypeError)


# -- behaviour otherwise identical ------------------------------------------


def test_valid_configs_build_as_before():
    labeler = PSEUDO_LABELERS.build(LABELER)
    assert type(labeler).__name__ == 'DBSCANLabeler'
    assert labeler.eps == 0.6
    hook = HOOKS.build(dict(type='ClusterRefreshHook', labeler=LABELER))
    assert type(hook).__name__ == 'ClusterRefreshHook'


def test_errors_the_config_does_not_explain_propagate_unchanged():
    registry = Registry(
        'test', build_func=build_with_hints(build_from_cfg), scope='t')

    @registry.register_module()
    class RaisesKeyError:

        def __init__(self, x: int = 0) -> None:
            raise KeyError('from inside')

    @registry.register_module()
    class RaisesTypeError:

        def __init__(self, x: int = 0) -> None:
            raise TypeError('a bug')

    with pytest.raises(KeyError) as excinfo:
        registry.build(dict(type='RaisesKeyError', x=1))
    assert type(excinfo.value) is KeyError
    with pytest.raises(TypeError) as excinfo:
        registry.build(dict(type='RaisesTypeError', x=1))
    assert type(excinfo.value) is TypeError
    assert str(excinfo.value) == 'a bug'


def test_wrapping_is_idempotent():
    wrapped = build_with_hints(build_from_cfg)
    assert build_with_hints(wrapped) is wrapped
    assert MODELS.build_func is build_with_hints(MODELS.build_func)


# -- through Runner.from_cfg -------------------------------------------------


def test_runner_unknown_model_type(tiny_synthetic_root, tmp_path):
    cfg = tiny_cfg(tiny_synthetic_root, tmp_path)
    cfg.model.type = 'ClusterContrastt'
    with pytest.raises(UnknownTypeError,
                       match="'ClusterContrastt'.*Did you mean "
                       "'ClusterContrast'"):
        build_runner(cfg)


def test_runner_misspelt_labeler_key(tiny_synthetic_root, tmp_path):
    cfg = tiny_cfg(tiny_synthetic_root, tmp_path)
    cfg.custom_hooks[0].labeler['epss'] = cfg.custom_hooks[0].labeler.pop(
        'eps')
    with pytest.raises(ConfigArgumentError,
                       match="'epss' \\(did you mean 'eps'"):
        build_runner(cfg)


def test_runner_wrong_value_type(tiny_synthetic_root, tmp_path):
    cfg = tiny_cfg(tiny_synthetic_root, tmp_path)
    cfg.custom_hooks[0].interval = '1'
    with pytest.raises(ConfigArgumentError,
                       match="ClusterRefreshHook: config key 'interval'"):
        build_runner(cfg)


def test_runner_unknown_hook_type(tiny_synthetic_root, tmp_path):
    cfg = tiny_cfg(tiny_synthetic_root, tmp_path)
    cfg.custom_hooks[1].type = 'MemoryMomentumHok'
    with pytest.raises(UnknownTypeError,
                       match="Did you mean 'MemoryMomentumHook'"):
        build_runner(cfg)


# -- keys forwarded through **kwargs, strings for numbers -------------------


@pytest.mark.parametrize('registry, cfg, key, expected', [
    # CheckpointHook passes **kwargs to Runner.save_checkpoint at each save.
    (HOOKS, dict(type='CheckpointHook', intervl=1), 'intervl', 'interval'),
    (HOOKS, dict(type='AtomicCheckpointHook', max_keep_ckpt=1),
     'max_keep_ckpt', 'max_keep_ckpts'),
    # EMAHook passes **kwargs to the averaged model (ema_type).
    (HOOKS, dict(type='EMAHook', momentm=0.001), 'momentm', 'momentum'),
    # Parameter schedulers pass them to the *ParamScheduler base.
    (PARAM_SCHEDULERS, dict(type='MultiStepLR', milestone=[2]), 'milestone',
     'milestones'),
])
def test_misspelt_key_of_a_kwargs_class(registry, cfg, key, expected):
    with pytest.raises(ConfigArgumentError) as excinfo:
        registry.build(cfg, default_args=dict(optimizer=_optimizer()))
    message = str(excinfo.value)
    assert f"unexpected config key {key!r} (did you mean {expected!r}?)" \
        in message


def _optimizer():
    import torch
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)


def test_forwarded_keys_still_build():
    hook = HOOKS.build(dict(type='CheckpointHook', interval=2))
    assert hook.interval == 2
    scheduler = PARAM_SCHEDULERS.build(
        dict(type='MultiStepLR', milestones=[2], gamma=0.5),
        default_args=dict(optimizer=_optimizer()))
    assert scheduler.milestones == {2: 1}


def test_string_for_a_number_names_the_key_even_if_the_build_passes():
    # CheckpointHook stores interval='1' and would fail at the first epoch.
    with pytest.raises(ConfigArgumentError,
                       match="CheckpointHook: config key 'interval' has the "
                       "value '1' of type str, but interval must be int "
                       r"\(write interval=1, without quotes\)"):
        HOOKS.build(dict(type='CheckpointHook', interval='1'))


def test_runner_misspelt_checkpoint_hook_key(tiny_synthetic_root, tmp_path):
    cfg = tiny_cfg(tiny_synthetic_root, tmp_path,
                   default_hooks=dict(checkpoint=dict(intervl=1)))
    with pytest.raises(ConfigArgumentError,
                       match="AtomicCheckpointHook got an unexpected config "
                       "key 'intervl' \\(did you mean 'interval'"):
        build_runner(cfg)


@pytest.mark.parametrize('overrides, expected', [
    (dict(train_cfg=dict(max_epochs='ten')),
     "ResumableEpochBasedTrainLoop: config key 'max_epochs' has the value "
     "'ten' of type str, but max_epochs must be int"),
    (dict(train_cfg=dict(max_epoch=3)),
     "ResumableEpochBasedTrainLoop got an unexpected config key 'max_epoch' "
     "(did you mean 'max_epochs'?). It accepts: max_epochs, val_begin,"),
])
def test_runner_train_loop_keys(tiny_synthetic_root, tmp_path, overrides,
                                expected):
    runner = build_runner(
        tiny_cfg(tiny_synthetic_root, tmp_path, **overrides))
    with pytest.raises(ConfigArgumentError) as excinfo:
        runner.train_loop  # built on first use, as train() does
    assert expected in str(excinfo.value)


def test_runner_learning_rate_string(tiny_synthetic_root, tmp_path):
    cfg = tiny_cfg(tiny_synthetic_root, tmp_path,
                   optim_wrapper=dict(optimizer=dict(lr='fast')))
    runner = build_runner(cfg)
    with pytest.raises(ConfigArgumentError,
                       match="Adam: config key 'lr' has the value 'fast' of "
                       "type str, but lr must be float"):
        runner.build_optim_wrapper(cfg.optim_wrapper)


def test_runner_depth_string_is_not_called_invalid(tiny_synthetic_root,
                                                   tmp_path):
    cfg = tiny_cfg(tiny_synthetic_root, tmp_path, base=TINY_R18_CONFIG,
                   model=dict(backbone=dict(depth='18')))
    with pytest.raises(ConfigArgumentError) as excinfo:
        build_runner(cfg)
    message = str(excinfo.value)
    assert message == ("ReIDResNet: config key 'depth' has the value '18' of "
                       'type str, but depth must be int (write depth=18, '
                       'without quotes).')
    assert isinstance(excinfo.value, KeyError)  # what ReIDResNet raised


def test_value_named_by_another_error_is_explained():
    # depth=18.5: ReIDResNet raises KeyError naming the value.
    with pytest.raises(ConfigArgumentError,
                       match="'depth' has the value 18.5 of type float, but "
                       'depth must be int') as excinfo:
        MODELS.build(dict(type='ReIDResNet', depth=18.5, init_cfg=None))
    assert isinstance(excinfo.value, KeyError)
    assert isinstance(excinfo.value.__cause__, KeyError)


@pytest.mark.parametrize('optim_wrapper, expected', [
    (dict(optimizer=dict(type='Adam', lrr=0.1)),
     "Adam got an unexpected config key 'lrr' (did you mean 'lr'?)"),
    (dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=0.1),
          clip_gard=dict(max_norm=1)),
     "OptimWrapper got an unexpected config key 'clip_gard' (did you mean "
     "'clip_grad'?)"),
])
def test_misspelt_optimizer_and_wrapper_keys(optim_wrapper, expected):
    """MMEngine's own builder, inside the runner's scope of clear errors."""
    import torch
    from mmengine.optim import build_optim_wrapper

    from mmreid_unsup.registry import HINTED_MMENGINE_ROOTS
    from mmreid_unsup.utils.build_hints import build_hints_on
    with pytest.raises(ConfigArgumentError) as excinfo:
        with build_hints_on(*HINTED_MMENGINE_ROOTS):
            build_optim_wrapper(torch.nn.Linear(2, 2), optim_wrapper)
    assert expected in str(excinfo.value)


def test_hints_on_mmengine_s_roots_end_with_the_block():
    """Outside the runner, MMEngine's roots build as MMEngine does."""
    from mmengine.registry import MODELS as MMENGINE_MODELS

    from mmreid_unsup.registry import HINTED_MMENGINE_ROOTS
    from mmreid_unsup.utils.build_hints import build_hints_on
    before = [root.build_func for root in HINTED_MMENGINE_ROOTS]
    models_before = MMENGINE_MODELS.build_func
    with build_hints_on(*HINTED_MMENGINE_ROOTS):
        assert MMENGINE_MODELS.build_func is not models_before
        with build_hints_on(*HINTED_MMENGINE_ROOTS):  # nested
            pass
    assert [root.build_func for root in HINTED_MMENGINE_ROOTS] == before
