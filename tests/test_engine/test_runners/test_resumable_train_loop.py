"""ResumableEpochBasedTrainLoop: a mid-epoch resume continues the epoch."""
import numpy as np
import pytest
import torch
from mmengine.hooks import Hook

from toy_runner import ToySet, build_toy_runner

#: 2 epochs of 4 batches; a checkpoint every 3 iterations.
CHECKPOINT = dict(by_epoch=False, interval=3, max_keep_ckpts=4)

SAMPLERS = {
    # Fast-forwarded by the sampler, nothing loaded.
    'skip_batches':
    dict(type='RandomInstanceSampler', batch_size=4, iters_per_epoch=4,
         seed=0),
    # No skip_batches(): the batches are loaded and dropped.
    'load_and_drop':
    dict(type='DefaultSampler', shuffle=True, seed=0),
}


class _Probe(Hook):
    """Records each iteration's samples and draws of the global generators.
    """

    priority = 'LOWEST'

    def __init__(self):
        self.iters = {}

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.iters[runner.iter] = (
            runner.epoch, batch_idx,
            [int(i) for i in data_batch['data_samples']],
            float(torch.rand(1)), float(np.random.rand()))


def _run(work_dir, sampler, checkpoint=CHECKPOINT, **kwargs):
    runner = build_toy_runner(
        work_dir,
        max_epochs=2,
        checkpoint=checkpoint,
        train_dataloader=dict(
            dataset=ToySet(size=16),
            sampler=sampler,
            batch_size=4,
            num_workers=0),
        **kwargs)
    probe = _Probe()
    runner.register_hook(probe)
    runner.train()
    # The runner trains on a copy of the dataset: count the copy's loads.
    return runner, probe, runner.train_dataloader.dataset


@pytest.mark.parametrize('mode', list(SAMPLERS))
def test_resume_in_mid_epoch_continues_the_epoch(tmp_path, mode):
    sampler = SAMPLERS[mode]
    _, reference, _ = _run(tmp_path, sampler)
    # iter_6.pth: epoch 1 (0-based), after its batches 0 and 1.
    runner, resumed, dataset = _run(
        tmp_path, sampler, resume=True, load_from=str(tmp_path / 'iter_6.pth'))
    assert sorted(resumed.iters) == [6, 7]
    for it in (6, 7):
        assert resumed.iters[it] == reference.iters[it]
    assert resumed.iters[6][:2] == (1, 2)  # epoch 1, batch 2
    assert runner.iter == runner.train_loop.max_iters == 8
    logs = ''.join(p.read_text() for p in tmp_path.glob('*/*.log'))
    if mode == 'skip_batches':
        assert 'RandomInstanceSampler skips the batches' in logs
        assert dataset.loads == 2 * 4  # the two remaining batches only
    else:
        assert 'has no skip_batches(), so the batches trained' in logs
        assert dataset.loads == 4 * 4  # the whole epoch


@pytest.mark.parametrize('checkpoint, name', [
    (dict(interval=1, max_keep_ckpts=4), 'epoch_1.pth'),
    # Saved after the last batch of epoch 0, before its end-of-epoch hooks.
    (dict(by_epoch=False, interval=2, max_keep_ckpts=4), 'iter_4.pth'),
])
def test_resume_at_the_end_of_an_epoch_starts_the_next(
        tmp_path, checkpoint, name):
    sampler = SAMPLERS['skip_batches']
    _, reference, _ = _run(tmp_path, sampler, checkpoint=checkpoint)
    runner, resumed, _ = _run(
        tmp_path, sampler, checkpoint=checkpoint, resume=True,
        load_from=str(tmp_path / name))
    assert sorted(resumed.iters) == [4, 5, 6, 7]
    for it in resumed.iters:
        assert resumed.iters[it] == reference.iters[it]
    assert runner.iter == 8


def test_changed_epoch_length_is_a_clear_error(tmp_path):
    _run(tmp_path, SAMPLERS['skip_batches'])
    longer = dict(SAMPLERS['skip_batches'], iters_per_epoch=5)
    with pytest.raises(ValueError, match=r'after 2 of 4 batches of epoch 1, '
                       r'but the epoch now has 5 batches'):
        _run(tmp_path, longer, resume=True,
             load_from=str(tmp_path / 'iter_6.pth'))
