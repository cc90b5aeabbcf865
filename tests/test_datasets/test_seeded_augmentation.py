"""A sample's augmentation depends on its index's seed only."""
import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope
from torch.utils.data import DataLoader

from mmreid_unsup.datasets import SyntheticReID
from mmreid_unsup.datasets.samplers import RandomInstanceSampler
from mmreid_unsup.datasets.samplers.seeded_index import SeededIndex

PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomCrop', size=(48, 24), padding=4),
    dict(type='RandomErasing', prob=0.5),
    dict(type='PackReIDInputs'),
]


@pytest.fixture(autouse=True)
def default_scope():
    with DefaultScope.overwrite_default_scope('mmreid_unsup'):
        yield


def _dataset(root):
    return SyntheticReID(data_root=str(root), pipeline=PIPELINE)


def test_same_seed_same_augmentation_whatever_was_drawn_before(
        tiny_synthetic_root):
    dataset = _dataset(tiny_synthetic_root)
    first = dataset[SeededIndex(3, seed=11)]['inputs']
    np.random.seed(0)
    np.random.rand(17)  # another history of the global generators
    torch.rand(5)
    again = dataset[SeededIndex(3, seed=11)]['inputs']
    assert torch.equal(first, again)
    others = [dataset[SeededIndex(3, seed=s)]['inputs'] for s in range(12)]
    assert any(not torch.equal(first, other) for other in others)
    # The sample index is a plain int downstream.
    assert type(dataset[SeededIndex(3, seed=11)]['data_samples'].sample_idx) \
        is int


def test_seeded_loading_leaves_the_callers_generators_alone(
        tiny_synthetic_root):
    dataset = _dataset(tiny_synthetic_root)
    np.random.seed(5)
    torch.manual_seed(5)
    expected = np.random.rand(), float(torch.rand(1))
    np.random.seed(5)
    torch.manual_seed(5)
    dataset[SeededIndex(2, seed=1)]
    assert (np.random.rand(), float(torch.rand(1))) == expected


def _epoch(dataset, num_workers):
    sampler = RandomInstanceSampler(
        dataset, batch_size=4, iters_per_epoch=3, seed=0)
    loader = DataLoader(
        dataset,
        batch_size=4,
        sampler=sampler,
        num_workers=num_workers,
        collate_fn=lambda batch: torch.stack([b['inputs'] for b in batch]))
    return torch.cat(list(loader))


def test_augmentation_does_not_depend_on_the_number_of_workers(
        tiny_synthetic_root):
    dataset = _dataset(tiny_synthetic_root)
    in_main = _epoch(dataset, num_workers=0)
    assert torch.equal(in_main, _epoch(dataset, num_workers=2))
