"""RandomStateHook: the generators go into the checkpoint and come back on
resume, at the point where the checkpoint was taken."""
import random
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from gloo_ranks import run_on_gloo_ranks
from mmengine.dist import broadcast_object_list

from mmreid_unsup.engine.hooks import RandomStateHook
from mmreid_unsup.engine.runners import EPOCH_PROGRESS_KEY


def _draws():
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def _runner(progress=None, resume=True, epoch=1, diff_rank_seed=False):
    """What the hook reads of a runner; ``logger.warnings`` records."""
    hub = SimpleNamespace(
        get_info=lambda key: progress if key == EPOCH_PROGRESS_KEY else None)
    warnings = []
    return SimpleNamespace(
        resuming=resume,
        cfg=dict(randomness=dict(seed=0, diff_rank_seed=diff_rank_seed)),
        epoch=epoch,
        message_hub=hub,
        logger=SimpleNamespace(warning=warnings.append, warnings=warnings))


def _saved_checkpoint(hook):
    checkpoint = dict(meta=dict())
    hook.before_save_checkpoint(_runner(), checkpoint)
    return checkpoint


def test_epoch_end_checkpoint_is_restored_before_the_next_epoch():
    hook = RandomStateHook()
    checkpoint = _saved_checkpoint(hook)
    expected = _draws()
    _draws()  # the run goes on, then dies
    runner = _runner(dict(epoch=0, batches_done=4, epoch_length=4))
    hook.after_load_checkpoint(runner, checkpoint)
    hook.before_train_epoch(runner)
    assert _draws() == expected
    hook.before_train_iter(runner, 0)  # restores once only
    assert _draws() != expected


def test_mid_epoch_checkpoint_is_restored_at_the_next_iteration():
    hook = RandomStateHook()
    checkpoint = _saved_checkpoint(hook)
    expected = _draws()
    runner = _runner(dict(epoch=1, batches_done=2, epoch_length=4))
    hook.after_load_checkpoint(runner, checkpoint)
    hook.before_train_epoch(runner)
    _draws()  # e.g. a dataloader iterator drawing its base seed
    hook.before_train_iter(runner, 2)
    assert _draws() == expected


def test_load_from_restores_nothing_and_missing_states_warn():
    hook = RandomStateHook()
    checkpoint = _saved_checkpoint(hook)
    expected = _draws()
    runner = _runner(resume=False)
    hook.after_load_checkpoint(runner, checkpoint)
    hook.before_train_epoch(runner)
    assert _draws() != expected
    runner = _runner()
    hook.after_load_checkpoint(runner, dict(meta=dict()))
    hook.before_train_epoch(runner)
    assert _draws() != expected
    assert 'holds no random states' in runner.logger.warnings[0]


def test_validation_does_not_draw_from_the_training_streams():
    hook = RandomStateHook()
    state = random.getstate(), np.random.get_state(), torch.get_rng_state()
    expected = _draws()
    random.setstate(state[0])
    np.random.set_state(state[1])
    torch.set_rng_state(state[2])
    hook.before_val(_runner())
    _draws()  # validation draws
    hook.after_val(_runner())
    assert _draws() == expected


def test_states_load_with_weights_only(tmp_path):
    checkpoint = _saved_checkpoint(RandomStateHook())
    expected = _draws()
    torch.save(checkpoint, tmp_path / 'ckpt.pth')
    loaded = torch.load(tmp_path / 'ckpt.pth', weights_only=True)
    hook = RandomStateHook()
    hook.after_load_checkpoint(_runner(), loaded)
    hook.before_train_epoch(_runner())
    assert _draws() == expected


def _resume_on_rank(rank, diff_rank_seed):
    # Rank 0 alone writes the checkpoint (MMEngine's save is master-only);
    # every rank loads it.
    random.seed(rank if diff_rank_seed else 0)
    np.random.seed(rank if diff_rank_seed else 0)
    torch.manual_seed(rank if diff_rank_seed else 0)
    box = [_saved_checkpoint(RandomStateHook()) if rank == 0 else None]
    expected = _draws()
    broadcast_object_list(box, src=0)
    torch.manual_seed(123)  # a new process: streams from the config seed
    np.random.seed(123)
    random.seed(123)
    hook = RandomStateHook()
    runner = _runner(dict(epoch=0, batches_done=4, epoch_length=4),
                     diff_rank_seed=diff_rank_seed)
    hook.after_load_checkpoint(runner, box[0])
    hook.before_train_epoch(runner)
    return expected, _draws(), runner.logger.warnings


@pytest.mark.dist
def test_every_rank_continues_the_saved_streams():
    # Ranks seeded alike (MMEngine's default) draw alike: rank 0's states
    # continue every rank's streams exactly, without a warning.
    results = run_on_gloo_ranks(_resume_on_rank, False)
    for rank, (expected, got, warnings) in results.items():
        assert got == expected, rank
        assert warnings == []


@pytest.mark.dist
def test_diff_rank_seed_warns_that_other_ranks_get_rank0_streams():
    results = run_on_gloo_ranks(_resume_on_rank, True)
    expected0, got0, _ = results[0]
    expected1, got1, warnings = results[1]
    assert got0 == expected0 and got1 == expected0 != expected1
    assert "every rank continues rank 0's streams" in warnings[0]


@pytest.mark.parametrize('key', ['python', 'numpy', 'torch', 'torch_cuda'])
def test_incomplete_states_name_the_missing_key(key):
    from mmreid_unsup.utils.random_state import (get_random_states,
                                                 set_random_states)
    states = get_random_states()
    del states[key]
    with pytest.raises(KeyError, match=f"missing \\['{key}'\\]"):
        set_random_states(states)
