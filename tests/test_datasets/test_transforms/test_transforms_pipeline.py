"""The train pipeline of the configs, built by name like a Runner does."""
import numpy as np
import pytest
import torch
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope

from mmreid_unsup.datasets import Market1501

TRAIN_PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(64, 128), interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomCrop', size=(128, 64), padding=10),
    dict(type='RandomErasing', prob=0.5),
    dict(type='PackReIDInputs'),
]


@pytest.fixture
def default_scope():
    with DefaultScope.overwrite_default_scope('mmreid_unsup'):
        yield


def test_train_pipeline_builds_and_runs(default_scope, market_root):
    pipeline = Compose(TRAIN_PIPELINE)
    names = [type(t).__name__ for t in pipeline.transforms]
    assert names == [cfg['type'] for cfg in TRAIN_PIPELINE]
    assert type(pipeline.transforms[3]).__module__.startswith('mmreid_unsup')

    ds = Market1501(data_root=str(market_root), pipeline=TRAIN_PIPELINE)
    np.random.seed(0)
    out = ds[1]
    assert out['inputs'].shape == (3, 128, 64)  # Resize's scale is (w, h)
    assert out['inputs'].dtype == torch.uint8
    meta = out['data_samples'].metainfo
    assert meta['sample_idx'] == 1 and meta['pid'] == 2
    assert meta['camid'] == 1 and meta['is_query'] is False
