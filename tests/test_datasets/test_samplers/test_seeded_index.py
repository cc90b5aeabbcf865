"""Seeded indices and the fast-forward of a resumed epoch."""
import pickle

import numpy as np
import pytest

from mmreid_unsup.datasets.samplers import (CameraAwareIdentitySampler,
                                            RandomInstanceSampler)
from mmreid_unsup.datasets.samplers.seeded_index import (SeededIndex,
                                                         sample_seeds)


class _Cams(list):
    """A dataset stand-in with cameras (for camera_balanced)."""

    def get_camids(self):
        return np.arange(len(self)) % 3


def _identity(world=(0, 1)):
    sampler = CameraAwareIdentitySampler(
        list(range(40)), batch_size=8, num_instances=2, iters_per_epoch=6,
        seed=5)
    sampler.rank, sampler.world_size = world
    sampler.set_labels(np.repeat(np.arange(10), 4))
    return sampler


def _instance(world=(0, 1)):
    sampler = RandomInstanceSampler(
        _Cams(range(30)), batch_size=4, iters_per_epoch=6,
        camera_balanced=True, seed=5)
    sampler.rank, sampler.world_size = world
    return sampler


def _pairs(sampler):
    return [(int(i), i.seed) for i in sampler]


@pytest.mark.parametrize('make', [_identity, _instance])
@pytest.mark.parametrize('world', [(0, 1), (1, 2)])
def test_skip_batches_yields_the_tail_of_the_uninterrupted_epoch(make, world):
    full = make(world)
    full.set_epoch(3)
    expected = _pairs(full)
    resumed = make(world)
    resumed.set_epoch(3)
    resumed.skip_batches(4)
    assert _pairs(resumed) == expected[4 * resumed.batch_size:]
    # One-shot: the next epoch of the resumed run is whole again.
    assert len(_pairs(resumed)) == len(expected)
    resumed.skip_batches(resumed.iters_per_epoch)
    assert _pairs(resumed) == []


@pytest.mark.parametrize('make', [_identity, _instance])
def test_seeds_depend_on_seed_epoch_and_position_only(make):
    first, second = make(), make()
    indices = list(first)
    assert all(isinstance(i, SeededIndex) for i in indices)
    assert _pairs(second) == _pairs(first)
    seeds = [i.seed for i in indices]
    assert len(set(seeds)) == len(seeds)  # every position its own seed
    second.set_epoch(1)
    assert not set(i.seed for i in second) & set(seeds)
    # Ranks split the positions of one global stream: no seed is shared.
    rank0, rank1 = make((0, 2)), make((1, 2))
    assert not {i.seed for i in rank0} & {i.seed for i in rank1}
    np.testing.assert_array_equal(
        sample_seeds(5, 0, 3), sample_seeds(5, 0, 10)[:3])


def test_seeded_index_is_an_int_that_survives_pickling():
    index = SeededIndex(7, seed=123)
    assert index == 7 and [10, 11, 12, 13, 14, 15, 16, 17][index] == 17
    copy = pickle.loads(pickle.dumps(index))
    assert type(copy) is SeededIndex and copy == 7 and copy.seed == 123
    assert repr(index) == 'SeededIndex(7, seed=123)'


def test_skip_batches_out_of_range_is_a_clear_error():
    sampler = _identity()
    with pytest.raises(ValueError, match=r'iters_per_epoch=6\], got 7'):
        sampler.skip_batches(7)
    with pytest.raises(ValueError, match='got -1'):
        sampler.skip_batches(-1)
