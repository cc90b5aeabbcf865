import numpy as np
import pytest

from mmreid_unsup.datasets import DukeMTMCReID


@pytest.fixture
def duke_root(tmp_path, write_images):
    root = tmp_path / 'duke'
    write_images(root / 'bounding_box_train',
                 ['0005_c2_f0046985.jpg', '0005_c5_f0051341.jpg'])
    write_images(root / 'query', ['0001_c2_f0046182.jpg'])
    write_images(root / 'bounding_box_test',
                 ['0001_c5_f0051256.jpg', '0002_c8_f0000001.jpg'])
    return root


def test_parses_names(duke_root):
    ds = DukeMTMCReID(data_root=str(duke_root), split='test')
    np.testing.assert_array_equal(ds.get_pids(), [1, 1, 2])
    np.testing.assert_array_equal(ds.get_camids(), [1, 4, 7])
    np.testing.assert_array_equal(ds.get_is_query(), [True, False, False])
    assert ds.metainfo['dataset_name'] == 'DukeMTMCReID'


def test_market_names_are_rejected(duke_root, write_images):
    write_images(duke_root / 'query', ['0001_c1s1_001051_00.jpg'])
    with pytest.raises(ValueError) as err:
        DukeMTMCReID(data_root=str(duke_root), split='query')
    assert str(duke_root / 'query' / '0001_c1s1_001051_00.jpg') in str(
        err.value)
    assert 'expected a name like 0001_c2_f0046182.jpg' in str(err.value)


def test_missing_root(tmp_path):
    with pytest.raises(FileNotFoundError,
                       match=str(tmp_path / 'nowhere' / 'bounding_box_train')):
        DukeMTMCReID(data_root=str(tmp_path / 'nowhere'))
