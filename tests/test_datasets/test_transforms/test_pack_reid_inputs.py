import numpy as np
import pytest
import torch

from mmreid_unsup.datasets.transforms import PackReIDInputs
from mmreid_unsup.structures import ReIDDataSample


def make_results():
    img = np.zeros((4, 3, 3), np.uint8)
    img[..., 0], img[..., 2] = 10, 30  # B, R
    return dict(
        img=img,
        img_path='a/0001_c1s1_000001_00.jpg',
        sample_idx=7,
        pid=1,
        camid=0,
        is_query=True,
        ori_shape=(4, 3))


def test_pack():
    out = PackReIDInputs()(make_results())
    assert set(out) == {'inputs', 'data_samples'}
    inputs = out['inputs']
    assert isinstance(inputs, torch.Tensor)
    assert inputs.dtype == torch.uint8 and inputs.shape == (3, 4, 3)
    assert inputs.is_contiguous()
    # channel order is kept (BGR): the data preprocessor converts
    assert inputs[0].unique().tolist() == [10]
    assert inputs[2].unique().tolist() == [30]
    sample = out['data_samples']
    assert isinstance(sample, ReIDDataSample)
    assert sample.metainfo == dict(
        img_path='a/0001_c1s1_000001_00.jpg',
        sample_idx=7,
        pid=1,
        camid=0,
        is_query=True)


def test_grayscale_gets_a_channel():
    results = make_results()
    results['img'] = np.zeros((4, 3), np.uint8)
    assert PackReIDInputs()(results)['inputs'].shape == (1, 4, 3)


def test_custom_meta_keys():
    sample = PackReIDInputs(meta_keys=('pid', 'ori_shape'))(
        make_results())['data_samples']
    assert sample.metainfo == dict(pid=1, ori_shape=(4, 3))


def test_missing_key_is_named():
    results = make_results()
    del results['sample_idx']
    with pytest.raises(KeyError, match='sample_idx'):
        PackReIDInputs()(results)
