"""ReIDRunner: what it changes of MMEngine's Runner, and that the tools' way
of building it refuses other runners."""
from pathlib import Path
from typing import Optional, Union

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.model import BaseModule
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS

from mmreid_unsup.engine import (DEFAULT_RUNNER_TYPE, ReIDRunner,
                                 build_runner, is_resuming)
from mmreid_unsup.registry import HINTED_MMENGINE_ROOTS
from mmreid_unsup.utils import register_all_modules, safe_torch_load
from tiny_cluster_contrast import REPO_ROOT
from toy_runner import ToyModel, ToySet, build_toy_runner


class ResumeProbe(Hook):
    """Records, at every checkpoint load, whether the runner resumes, and
    whether MMEngine's roots give clear errors while training."""

    def __init__(self) -> None:
        self.resuming = []
        self.hinted = None

    def after_load_checkpoint(self, runner, checkpoint) -> None:
        self.resuming.append(is_resuming(runner))

    def before_train(self, runner) -> None:
        self.hinted = all(
            getattr(root.build_func, '_mmreid_build_hints', False)
            for root in HINTED_MMENGINE_ROOTS)


def test_the_base_config_selects_it_through_the_registry():
    cfg = Config.fromfile(
        str(REPO_ROOT / 'configs' / '_base_' / 'default_runtime.py'))
    assert cfg.runner_type == DEFAULT_RUNNER_TYPE
    assert MMENGINE_RUNNERS.get(DEFAULT_RUNNER_TYPE) is ReIDRunner


@pytest.mark.parametrize('runner_type, error, match', [
    ('Runner', TypeError, 'read checkpoints safely'),
    ('mmengine.FlexibleRunner', TypeError, 'read checkpoints safely'),
    ('NoSuchRunner', KeyError, 'not a registered runner'),
])
def test_build_runner_refuses_other_runners(runner_type, error, match):
    """Before building anything: another runner would load checkpoints
    with MMEngine's own loader."""
    with pytest.raises(error, match=match):
        build_runner(Config(dict(runner_type=runner_type)))


def test_resume_is_recorded_and_load_from_is_not(tmp_path):
    build_toy_runner(tmp_path / 'first', max_epochs=2).train()
    epoch_2 = str(tmp_path / 'first' / 'epoch_2.pth')

    probe = ResumeProbe()
    runner = build_toy_runner(
        tmp_path / 'first', resume=True, custom_hooks=[probe])
    runner.train()
    assert probe.resuming == [True]
    assert runner.resumed_from == epoch_2
    assert not runner.resuming  # only while resume() loads
    assert runner.epoch == 3

    probe = ResumeProbe()
    epoch_3 = str(tmp_path / 'first' / 'epoch_3.pth')  # (epoch_2 pruned)
    runner = build_toy_runner(
        tmp_path / 'other', load_from=epoch_3, custom_hooks=[probe])
    runner.train()
    assert probe.resuming == [False]
    assert runner.resumed_from is None


def test_mmengine_s_roots_give_clear_errors_during_the_run_only(tmp_path):
    before = [root.build_func for root in HINTED_MMENGINE_ROOTS]
    probe = ResumeProbe()
    build_toy_runner(tmp_path, max_epochs=1, custom_hooks=[probe]).train()
    assert probe.hinted is True
    assert [root.build_func for root in HINTED_MMENGINE_ROOTS] == before


class RisingScore(BaseMetric):
    """A validation score that improves at every validation."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def process(self, data_batch, data_samples) -> None:
        self.results.append(0)

    def compute_metrics(self, results) -> dict:
        self.calls += 1
        return dict(score=float(self.calls))


def _validated_toy_runner(work_dir: Path, **checkpoint) -> ReIDRunner:
    return build_toy_runner(
        work_dir,
        checkpoint=dict(interval=1, max_keep_ckpts=1, **checkpoint),
        train_cfg=dict(
            type='ResumableEpochBasedTrainLoop', max_epochs=3,
            val_interval=1),
        val_dataloader=dict(
            dataset=ToySet(4),
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=4,
            num_workers=0),
        val_cfg=dict(),
        val_evaluator=[RisingScore()])


def test_save_best_resaves_the_latest_checkpoint_atomically(tmp_path):
    """MMEngine's save_best logic; the re-save of the latest checkpoint
    (recording the new best) goes through the hook's crash-safe save."""
    _validated_toy_runner(tmp_path, save_best='score', rule='greater').train()
    names = sorted(p.name for p in tmp_path.glob('*.pth'))
    assert names == ['best_score_epoch_3.pth', 'epoch_3.pth']
    assert not list(tmp_path.glob('.*.tmp'))
    assert (tmp_path / 'last_checkpoint').read_text() == str(
        tmp_path / 'epoch_3.pth')
    latest = safe_torch_load(tmp_path / 'epoch_3.pth')
    assert latest['message_hub']['runtime_info']['best_score'] == 3.0


def test_published_checkpoints_are_read_safely(tmp_path):
    build_toy_runner(
        tmp_path,
        checkpoint=dict(
            interval=1, max_keep_ckpts=1,
            published_keys=['meta', 'state_dict'])).train()
    published = list(tmp_path.glob('epoch_3-*.pth'))
    assert len(published) == 1
    assert set(safe_torch_load(published[0])) == {'meta', 'state_dict'}


class TwoParts(BaseModule):
    """``init_cfg`` Pretrained with a prefix loads into it."""

    def __init__(self, checkpoint: str, prefix: str) -> None:
        super().__init__(init_cfg=dict(
            type='Pretrained', checkpoint=checkpoint, prefix=prefix))
        self.weight = nn.Parameter(torch.zeros(2))


def test_pretrained_with_a_prefix_reads_only_that_part(tmp_path):
    register_all_modules(init_default_scope=True)
    path = tmp_path / 'ckpt.pth'
    torch.save(dict(state_dict={'backbone.weight': torch.ones(2),
                                'head.weight': torch.full((2, ), 2.0)}), path)
    module = TwoParts(str(path), 'backbone')
    module.init_weights()
    assert torch.equal(module.weight, torch.ones(2))
    with pytest.raises(KeyError, match="no weights under 'neck.'"):
        TwoParts(str(path), 'neck.').init_weights()


class MeanOutput(BaseMetric):
    """The mean of the model's outputs (which weights it validated)."""

    default_prefix = 'toy'

    def process(self, data_batch, data_samples) -> None:
        self.results.append(torch.stack(list(data_samples)).mean().item())

    def compute_metrics(self, results) -> dict:
        return dict(mean_output=sum(results) / len(results))


class StartWeights(Hook):
    """The model's weight when training starts."""

    def before_train(self, runner) -> None:
        self.weight = runner.model.linear.weight.detach().clone()
        self.bias = runner.model.linear.bias.detach().clone()


def _evaluated_toy_runner(work_dir: Path, model: Union[dict, ToyModel],
                          **kwargs) -> ReIDRunner:
    """A toy runner that trains (one epoch), validates and tests, with
    :class:`MeanOutput`; ``model`` a config (built by the runner) or a
    model."""

    def loader(size: int) -> dict:
        return dict(
            dataset=ToySet(size, dim=4),
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=4,
            num_workers=0)

    return build_toy_runner(
        work_dir,
        max_epochs=1,
        model=model,
        train_dataloader=loader(8),
        val_dataloader=loader(4),
        val_cfg=dict(),
        val_evaluator=[MeanOutput()],
        test_dataloader=loader(4),
        test_cfg=dict(),
        test_evaluator=[MeanOutput()],
        **kwargs)


def _toy(init_cfg: Optional[dict], model_type: type = ToyModel) -> dict:
    """A config of a 4-d toy model."""
    return dict(type=model_type, dim=4, init_cfg=init_cfg)


def _constant(weight: float, bias: float = 0.0) -> dict:
    return dict(type='Constant', layer='Linear', val=weight, bias=bias)


def _pretrained(path: Union[str, Path]) -> dict:
    return dict(type='Pretrained', checkpoint=str(path))


def _saved_toy(path: Path, weight: float, bias: float = 0.0) -> str:
    """A checkpoint of a toy model with constant weights."""
    model = ToyModel(dim=4, init_cfg=_constant(weight, bias))
    model.init_weights()
    torch.save(dict(state_dict=model.state_dict()), path)
    return str(path)


# The mean output of ToyModel(dim=4) on ToySet(4) with every weight `w`
# and no bias: sample i is 4 times i, so w * 4 * 1.5.
def _mean_output(weight: float) -> float:
    return weight * 4 * 1.5


def _mean(metrics: dict) -> float:
    return metrics['toy/mean_output']


@pytest.mark.parametrize('run', ['val', 'test'])
def test_before_training_the_initialised_model_is_evaluated(tmp_path, run):
    register_all_modules(init_default_scope=True)
    runner = _evaluated_toy_runner(tmp_path, _toy(_constant(0.5)))
    assert _mean(getattr(runner, run)()) == pytest.approx(_mean_output(0.5))


def test_training_starts_from_the_initialised_model_after_val(tmp_path):
    register_all_modules(init_default_scope=True)
    weights = _saved_toy(tmp_path / 'weights.pth', 0.25)
    start = StartWeights()
    runner = _evaluated_toy_runner(
        tmp_path / 'work', _toy(_pretrained(weights)), custom_hooks=[start])
    calls = []
    model = runner.model
    init_weights = model.init_weights
    model.init_weights = lambda: calls.append(init_weights())
    assert _mean(runner.val()) == pytest.approx(_mean_output(0.25))
    runner.train()
    assert torch.equal(start.weight, torch.full((4, 4), 0.25))
    assert len(calls) == 1  # not again in train(), where it would warn


def test_load_from_is_evaluated_and_trained_from_over_the_init(tmp_path):
    """A checkpoint to load: val() loads it without initialising (so a
    missing pretrained file of init_cfg is not needed, as tools/test.py
    relies on); train() afterwards initialises and loads it again over."""
    register_all_modules(init_default_scope=True)
    checkpoint = _saved_toy(tmp_path / 'trained.pth', 2.0)
    runner = _evaluated_toy_runner(
        tmp_path / 'test', _toy(_pretrained(tmp_path / 'no.pth')),
        load_from=checkpoint)
    assert _mean(runner.test()) == pytest.approx(_mean_output(2.0))

    # The pretrained file has a bias, the checkpoint only the weight: the
    # start has both, the weight from the checkpoint.
    pretrained = _saved_toy(tmp_path / 'pretrained.pth', 0.25, bias=0.5)
    torch.save(dict(state_dict={'linear.weight': torch.full((4, 4), 2.0)}),
               tmp_path / 'weight_only.pth')
    start = StartWeights()
    runner = _evaluated_toy_runner(
        tmp_path / 'train',
        _toy(_pretrained(pretrained)),
        load_from=str(tmp_path / 'weight_only.pth'),
        custom_hooks=[start])
    runner.val()
    runner.train()
    assert torch.equal(start.weight, torch.full((4, 4), 2.0))
    assert torch.equal(start.bias, torch.full((4, ), 0.5))


def test_weights_passed_or_loaded_by_hand_are_evaluated_as_they_are(
        tmp_path):
    register_all_modules(init_default_scope=True)
    model = ToyModel(dim=4, init_cfg=_constant(0.5))
    nn.init.constant_(model.linear.weight, 3.0)
    nn.init.zeros_(model.linear.bias)
    runner = _evaluated_toy_runner(tmp_path / 'passed', model)
    assert _mean(runner.val()) == pytest.approx(_mean_output(3.0))

    runner = _evaluated_toy_runner(tmp_path / 'loaded', _toy(_constant(0.5)))
    runner.load_checkpoint(_saved_toy(tmp_path / 'trained.pth', 2.0))
    assert _mean(runner.test()) == pytest.approx(_mean_output(2.0))


class OwnInit(ToyModel):
    """A model whose ``init_weights`` is its own: it never sets MMEngine's
    ``is_init``."""

    def __init__(self, dim: int, init_cfg: Optional[dict] = None) -> None:
        super().__init__(dim=dim)
        self.inits = 0

    def init_weights(self) -> None:
        self.inits += 1
        nn.init.constant_(self.linear.weight, 0.5)
        nn.init.zeros_(self.linear.bias)


def test_weights_are_initialised_once_per_runner(tmp_path):
    register_all_modules(init_default_scope=True)
    runner = _evaluated_toy_runner(tmp_path / 'a', _toy(None, OwnInit))
    assert _mean(runner.val()) == pytest.approx(_mean_output(0.5))
    runner.train()
    assert runner.model.inits == 1

    # test() after train() tests the trained weights, not a new init.
    runner = _evaluated_toy_runner(tmp_path / 'b', _toy(None, OwnInit))
    runner.train()
    trained = runner.model.linear.weight.detach().clone()
    assert not torch.equal(trained, torch.full((4, 4), 0.5))
    runner.test()
    assert runner.model.inits == 1
    assert torch.equal(runner.model.linear.weight, trained)


def test_auto_resume_with_nothing_to_resume_evaluates_the_start(tmp_path):
    register_all_modules(init_default_scope=True)
    runner = _evaluated_toy_runner(tmp_path, _toy(_constant(0.5)), resume=True)
    assert _mean(runner.val()) == pytest.approx(_mean_output(0.5))


def test_val_before_a_resumed_training_changes_nothing(tmp_path):
    """val() resumes the checkpoint (model, optimizer, epoch); train()
    afterwards resumes it again, to the same end as without the val()."""
    register_all_modules(init_default_scope=True)
    first = tmp_path / 'first'
    _evaluated_toy_runner(first, _toy(_constant(0.5))).train()
    ends = []
    for name, validate_first in (('plain', False), ('validated', True)):
        work_dir = tmp_path / name
        work_dir.mkdir()
        for file in first.iterdir():
            if file.is_file():
                (work_dir / file.name).write_bytes(file.read_bytes())
        (work_dir / 'last_checkpoint').write_text(
            str(work_dir / 'epoch_1.pth'))
        runner = _evaluated_toy_runner(
            work_dir, _toy(_constant(0.5)), resume=True,
            train_cfg=dict(type='ResumableEpochBasedTrainLoop', max_epochs=2))
        if validate_first:
            runner.val()
        runner.train()
        assert runner.epoch == 2
        ends.append(runner.model.linear.weight.detach().clone())
    assert torch.equal(ends[0], ends[1])
