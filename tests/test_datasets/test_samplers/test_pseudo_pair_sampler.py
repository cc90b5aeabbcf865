"""PseudoPairSampler: anchors come with their pseudo partners, batches hold
distinct images, ranks get disjoint batches, epochs are reproducible."""
import numpy as np
import pytest
import torch

from mmreid_unsup.datasets.samplers import PseudoPairSampler


def _partners(num: int = 24) -> np.ndarray:
    """Images in pairs (0, 1), (2, 3), ...; every 4th pair is a triple-free
    pair of pairs: 0 and 1 also know 2."""
    partners = np.full((num, 3), -1)
    for i in range(0, num, 2):
        partners[i, 0], partners[i + 1, 0] = i + 1, i
    partners[0, 1], partners[1, 1] = 2, 2
    return partners


def _make(partners, world=(0, 1), **kwargs):
    cfg = dict(batch_size=8, num_instances=3, iters_per_epoch=5, seed=3)
    cfg.update(kwargs)
    sampler = PseudoPairSampler(list(range(len(partners))), **cfg)
    sampler.rank, sampler.world_size = world
    sampler.set_labels(torch.as_tensor(partners))
    return sampler


def _batches(sampler):
    indices = list(sampler)
    size = sampler.batch_size
    return [indices[i:i + size] for i in range(0, len(indices), size)]


def test_partners_share_the_batch_and_images_are_distinct():
    partners = _partners()
    batches = _batches(_make(partners))
    assert len(batches) == 5
    for batch in batches:
        assert len(batch) == 8 and len(set(batch)) == 8
        # Groups are consecutive: an anchor then its partners; each full
        # group's members are partners of its first image.
        members = set(batch)
        paired = [i for i in batch if partners[i, 0] in members]
        assert len(paired) >= 6  # at most the last group is cut


def test_group_takes_a_random_subset_of_num_instances_minus_one():
    # Only image 0 has partners (1..4), so it is the only anchor.
    partners = np.full((10, 4), -1)
    partners[0] = [1, 2, 3, 4]
    batches = _batches(_make(partners, batch_size=2, num_instances=2,
                             iters_per_epoch=40))
    assert all(b[0] == 0 and b[1] in (1, 2, 3, 4) for b in batches)
    assert len({b[1] for b in batches}) == 4
    triples = _batches(_make(partners, batch_size=3, num_instances=3,
                             iters_per_epoch=10))
    assert all(b[0] == 0 and set(b[1:]) <= {1, 2, 3, 4} for b in triples)


def test_anchors_without_partners_are_skipped_when_asked():
    partners = np.full((16, 1), -1)
    partners[0, 0], partners[1, 0] = 1, 0
    partners[2, 0], partners[3, 0] = 3, 2
    batches = _batches(_make(partners, batch_size=4, num_instances=2))
    for batch in batches:
        assert sorted(batch) == [0, 1, 2, 3]
    anywhere = _batches(_make(partners, batch_size=4, num_instances=2,
                              paired_anchors=False, iters_per_epoch=20))
    assert set(sum(anywhere, [])) > {0, 1, 2, 3}


def test_no_partner_at_all_still_fills_batches():
    batches = _batches(_make(np.full((10, 2), -1), batch_size=8))
    assert all(len(set(b)) == 8 for b in batches)


def test_ranks_split_one_epoch_and_epochs_differ():
    partners = _partners()
    whole = _batches(_make(partners, iters_per_epoch=6, world=(0, 1)))
    rank0 = _make(partners, iters_per_epoch=3, world=(0, 2))
    rank1 = _make(partners, iters_per_epoch=3, world=(1, 2))
    assert _batches(rank0) == whole[0::2]
    assert _batches(rank1) == whole[1::2]
    assert _batches(rank0) == _batches(
        _make(partners, iters_per_epoch=3, world=(0, 2)))
    rank0.set_epoch(1)
    assert _batches(rank0) != whole[0::2]
    assert len(rank0) == 3 * 8


def test_bad_input():
    with pytest.raises(ValueError, match='batch_size'):
        PseudoPairSampler(list(range(4)), batch_size=8)
    with pytest.raises(ValueError, match='num_instances'):
        PseudoPairSampler(list(range(10)), batch_size=8, num_instances=0)
    sampler = PseudoPairSampler(list(range(10)), batch_size=8, seed=0)
    with pytest.raises(RuntimeError, match='ClusterRefreshHook'):
        list(sampler)
    with pytest.raises(ValueError, match='PseudoPairLabeler'):
        sampler.set_labels(np.zeros(10))
    with pytest.raises(ValueError, match='out of range'):
        sampler.set_labels(np.full((10, 1), 10))


def test_seeded_indices_and_resume_fast_forward():
    sampler = _make(_partners(), iters_per_epoch=4)
    whole = list(sampler)
    assert all(hasattr(i, 'seed') for i in whole)
    sampler.skip_batches(2)
    rest = list(sampler)
    assert rest == whole[16:]
    assert [i.seed for i in rest] == [i.seed for i in whole[16:]]
    assert list(sampler) == whole  # the skip applies to one iteration only
