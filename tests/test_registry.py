"""Config mistakes give errors that name the key or type and suggest a fix."""
import pytest
from mmengine.registry import Registry, build_from_cfg, init_default_scope
from mmengine.runner import Runner

from mmreid_unsup.registry import HOOKS, MODELS, PSEUDO_LABELERS
from mmreid_unsup.utils.build_hints import (ConfigArgumentError,
                                            UnknownTypeError,
                                            build_with_hints)
from tiny_cluster_contrast import tiny_cfg

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
    cfg = dict(type='ClusterRefreshHook', labeler=dict(LABELER, type='DBSCANLabelr'))
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
        Runner.from_cfg(cfg)


def test_runner_misspelt_labeler_key(tiny_synthetic_root, tmp_path):
    cfg = tiny_cfg(tiny_synthetic_root, tmp_path)
    cfg.custom_hooks[0].labeler['epss'] = cfg.custom_hooks[0].labeler.pop(
        'eps')
    with pytest.raises(ConfigArgumentError,
                       match="'epss' \\(did you mean 'eps'"):
        Runner.from_cfg(cfg)


def test_runner_wrong_value_type(tiny_synthetic_root, tmp_path):
    cfg = tiny_cfg(tiny_synthetic_root, tmp_path)
    cfg.custom_hooks[0].interval = '1'
    with pytest.raises(ConfigArgumentError,
                       match="ClusterRefreshHook: config key 'interval'"):
        Runner.from_cfg(cfg)


def test_runner_unknown_hook_type(tiny_synthetic_root, tmp_path):
    cfg = tiny_cfg(tiny_synthetic_root, tmp_path)
    cfg.custom_hooks[1].type = 'MemoryMomentumHok'
    with pytest.raises(UnknownTypeError,
                       match="Did you mean 'MemoryMomentumHook'"):
        Runner.from_cfg(cfg)
