"""Capturing, restoring and scoping the global random generators."""
import io
import random

import numpy as np
import pytest
import torch

from mmreid_unsup.utils import (get_random_states, seeded_random_state,
                                set_random_states)


def _draws():
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def test_states_round_trip_through_a_weights_only_checkpoint():
    states = get_random_states()
    expected = _draws()
    buffer = io.BytesIO()
    torch.save(dict(meta=dict(random_states=states)), buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=True)['meta']['random_states']
    set_random_states(loaded)
    assert _draws() == expected


def test_seeded_block_depends_on_the_seed_only_and_restores_the_caller():
    random.seed(1)
    np.random.seed(1)
    torch.manual_seed(1)
    caller = _draws()
    random.seed(1)
    np.random.seed(1)
    torch.manual_seed(1)
    with seeded_random_state(42):
        inside = _draws()
    assert _draws() == caller  # the caller's streams went on untouched
    np.random.rand(100)  # another history
    with seeded_random_state(42):
        assert _draws() == inside
    with seeded_random_state(43):
        assert _draws() != inside


def test_seeded_block_restores_the_caller_after_an_error():
    states = get_random_states()
    expected = _draws()
    set_random_states(states)
    with pytest.raises(RuntimeError, match='broken pipeline'):
        with seeded_random_state(7):
            np.random.rand()
            raise RuntimeError('broken pipeline')
    assert _draws() == expected
