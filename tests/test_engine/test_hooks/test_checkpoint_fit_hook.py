"""CheckpointFitHook: a load_from checkpoint that does not fit the model
stops the Runner before anything runs; a trained checkpoint of the same
model (other numbers of clusters) still loads; load_from_strict=False
loads what fits on purpose. On the tiny ResNet-18 (ResNet-34 is the
other architecture)."""
import pytest
import torch

from mmreid_unsup.engine import build_runner
from mmreid_unsup.utils.checkpoint_fit import CheckpointMismatchError
from tiny_cluster_contrast import TINY_R18_CONFIG, tiny_cfg


@pytest.fixture(scope='module')
def trained_state(tiny_synthetic_root, tmp_path_factory):
    """The tiny model's weights as a run with 5 clusters would save them."""
    cfg = tiny_cfg(tiny_synthetic_root, tmp_path_factory.mktemp('fit'),
                   base=TINY_R18_CONFIG)
    state = build_runner(cfg).model.state_dict()
    assert state['head.memory.bank'].shape[0] == 0  # empty before a refresh
    state['head.memory.bank'] = torch.randn(5, state[
        'head.memory.bank'].shape[1])
    state['pseudo_labels'] = torch.arange(48) % 5
    return state


def _runner(root, tmp_path, checkpoint, **overrides):
    path = tmp_path / 'in.pth'
    torch.save(checkpoint, path)
    # A name of its own: runners built within the same second share the
    # default (config name + timestamp), and so MMEngine's logger, whose
    # log file is then the earlier runner's, not one under this work_dir.
    return build_runner(
        tiny_cfg(
            root,
            tmp_path / 'work',
            base=TINY_R18_CONFIG,
            load_from=str(path),
            experiment_name=f'fit_{tmp_path.name}',
            **overrides))


def test_the_default_runtime_lists_the_hook(tiny_synthetic_root, tmp_path):
    cfg = tiny_cfg(tiny_synthetic_root, tmp_path)
    assert cfg.default_hooks.checkpoint_fit.type == 'CheckpointFitHook'
    assert cfg.load_from_strict is True


def test_trained_checkpoint_of_the_same_model_loads(tiny_synthetic_root,
                                                     tmp_path, trained_state):
    runner = _runner(tiny_synthetic_root, tmp_path,
                     dict(state_dict=trained_state, meta={}))
    runner.load_or_resume()
    assert torch.equal(runner.model.head.memory.bank,
                       trained_state['head.memory.bank'])


def test_empty_state_dict_stops_the_run(tiny_synthetic_root, tmp_path):
    runner = _runner(tiny_synthetic_root, tmp_path,
                     dict(state_dict={}, meta={}))
    with pytest.raises(CheckpointMismatchError) as excinfo:
        runner.load_or_resume()
    message = str(excinfo.value)
    assert f'checkpoint {tmp_path / "in.pth"} does not fit' in message
    assert '105 missing (e.g. backbone.conv1.weight' in message
    assert 'load_from_strict = False' in message


def test_other_architecture_stops_the_run(tiny_synthetic_root, tmp_path,
                                          trained_state):
    # A ResNet-18 checkpoint into a ResNet-34 model: missing layers.
    runner = _runner(
        tiny_synthetic_root, tmp_path, dict(state_dict=trained_state),
        model=dict(backbone=dict(depth=34)))
    with pytest.raises(CheckpointMismatchError, match=r'\d+ missing \(e.g. '
                       r'backbone.layer1.2.conv1.weight'):
        runner.load_or_resume()


def test_partial_load_on_purpose(tiny_synthetic_root, tmp_path,
                                 trained_state):
    state = dict(trained_state)
    state['neck.extra'] = torch.zeros(1)
    state['backbone.layer1.0.conv1.weight'] = state[
        'backbone.layer1.0.conv1.weight'] + 1  # not the runner's own init
    del state['backbone.conv1.weight']
    runner = _runner(tiny_synthetic_root, tmp_path, dict(state_dict=state),
                     load_from_strict=False)
    runner.load_or_resume()
    assert torch.equal(runner.model.backbone.layer1[0].conv1.weight,
                       state['backbone.layer1.0.conv1.weight'])
    log = next((tmp_path / 'work').glob('*/*.log')).read_text()
    assert 'Partial load of' in log
    assert '1 missing (e.g. backbone.conv1.weight)' in log
    assert '1 unexpected (e.g. neck.extra)' in log


def test_strict_key_must_be_a_bool(tiny_synthetic_root, tmp_path,
                                   trained_state):
    runner = _runner(tiny_synthetic_root, tmp_path,
                     dict(state_dict=trained_state), load_from_strict='no')
    with pytest.raises(TypeError, match="'load_from_strict' must be True or "
                       "False, got 'no'"):
        runner.load_or_resume()
