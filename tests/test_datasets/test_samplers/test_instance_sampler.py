"""RandomInstanceSampler: fixed epoch length, passes without replacement,
camera balance, rank split."""
from collections import Counter

import numpy as np
import pytest

from mmreid_unsup.datasets.samplers import RandomInstanceSampler


class _Set:

    def __init__(self, camids):
        self.camids = np.asarray(camids)

    def __len__(self):
        return len(self.camids)

    def get_camids(self):
        return self.camids


def test_default_epoch_is_one_pass():
    sampler = RandomInstanceSampler(_Set([0] * 20), batch_size=8, seed=0)
    assert sampler.iters_per_epoch == 3 and len(sampler) == 24
    indices = list(sampler)
    assert len(indices) == 24
    assert sorted(indices[:20]) == list(range(20))  # a whole pass first


def test_fixed_iterations_cycle_passes_and_change_with_epoch():
    sampler = RandomInstanceSampler(
        _Set([0] * 10), batch_size=4, iters_per_epoch=7, seed=1)
    first = list(sampler)
    assert len(first) == 28
    for start in (0, 10):
        assert sorted(first[start:start + 10]) == list(range(10))
    assert first == list(sampler)  # deterministic within an epoch
    sampler.set_epoch(1)
    assert list(sampler) != first


def test_camera_balanced_batches():
    camids = [0] * 30 + [1] * 6 + [2] * 3
    sampler = RandomInstanceSampler(
        _Set(camids), batch_size=6, iters_per_epoch=5, camera_balanced=True,
        seed=0)
    indices = list(sampler)
    for b in range(5):
        batch = indices[6 * b:6 * b + 6]
        assert Counter(camids[i] for i in batch) == {0: 2, 1: 2, 2: 2}
    # Within a camera the images come in shuffled passes.
    cam2 = [i for i in indices if camids[i] == 2]
    assert sorted(cam2[:3]) == [36, 37, 38]


def test_ranks_split_one_global_stream():
    dataset = _Set([0] * 40)
    samplers = []
    for rank in (0, 1):
        sampler = RandomInstanceSampler(dataset, batch_size=4, seed=3)
        sampler.rank, sampler.world_size = rank, 2
        sampler.iters_per_epoch = 5
        samplers.append(sampler)
    streams = [list(s) for s in samplers]
    assert len(streams[0]) == len(streams[1]) == 20
    assert sorted(streams[0] + streams[1]) == list(range(40))


@pytest.mark.parametrize('kwargs', [dict(batch_size=0),
                                    dict(batch_size=4, iters_per_epoch=0)])
def test_invalid_arguments(kwargs):
    with pytest.raises(ValueError):
        RandomInstanceSampler(_Set([0] * 4), **kwargs)
