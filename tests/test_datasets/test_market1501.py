import shutil

import numpy as np
import pytest

from mmreid_unsup.datasets import Market1501
from mmreid_unsup.registry import DATASETS


def test_train_split(market_root):
    ds = Market1501(data_root=str(market_root), split='train')
    assert len(ds) == 4
    np.testing.assert_array_equal(ds.get_pids(), [2, 2, 7, 7])
    np.testing.assert_array_equal(ds.get_camids(), [0, 1, 2, 5])
    info = ds.get_data_info(0)
    assert info['img_path'] == str(
        market_root / 'bounding_box_train' / '0002_c1s1_000451_03.jpg')
    assert info['is_query'] is False
    assert ds.metainfo['dataset_name'] == 'Market1501'


def test_test_split_keeps_distractors_drops_junk(market_root):
    ds = Market1501(data_root=str(market_root), split='test')
    # 2 queries, then 3 gallery images: junk (-1) and Thumbs.db are ignored
    assert len(ds) == 5
    np.testing.assert_array_equal(ds.get_is_query(), [1, 1, 0, 0, 0])
    assert sorted(ds.get_pids()[2:]) == [0, 1, 3]
    assert -1 not in ds.get_pids()


def test_built_from_registry(market_root):
    ds = DATASETS.build(
        dict(type='Market1501', data_root=str(market_root), split='query'))
    assert isinstance(ds, Market1501) and len(ds) == 2


def test_missing_folder(market_root):
    shutil.rmtree(market_root / 'query')
    folder = market_root / 'query'
    with pytest.raises(FileNotFoundError) as err:
        Market1501(data_root=str(market_root), split='test')
    assert f'folder {folder} does not exist' in str(err.value)
    assert f'expected {folder}/*.jpg named like 0002_c1s1_000451_03.jpg' in \
        str(err.value)


def test_unparseable_name(market_root, write_images):
    write_images(market_root / 'bounding_box_train', ['0002_c1_000451.jpg'])
    with pytest.raises(ValueError) as err:
        Market1501(data_root=str(market_root), split='train')
    message = str(err.value)
    assert 'bad_name (file name does not match' in message
    assert str(market_root / 'bounding_box_train' / '0002_c1_000451.jpg') + \
        ': cannot parse the file name' in message
    assert 'expected a name like 0002_c1s1_000451_03.jpg' in message


def test_camera_zero_is_unparseable(market_root, write_images):
    write_images(market_root / 'query', ['0001_c0s1_001051_00.jpg'])
    with pytest.raises(ValueError, match='0001_c0s1_001051_00.jpg'):
        Market1501(data_root=str(market_root), split='query')


def test_empty_split(market_root):
    for f in (market_root / 'bounding_box_train').iterdir():
        f.unlink()
    with pytest.raises(ValueError) as err:
        Market1501(data_root=str(market_root), split='train')
    assert "'train' split is empty" in str(err.value)
    assert str(market_root / 'bounding_box_train') in str(err.value)


def test_only_junk_is_empty(tmp_path, write_images):
    write_images(tmp_path / 'bounding_box_train', ['-1_c1s1_000401_03.jpg'])
    with pytest.raises(ValueError, match="'train' split is empty"):
        Market1501(data_root=str(tmp_path), split='train')
