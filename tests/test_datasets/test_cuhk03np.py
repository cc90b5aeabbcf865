import numpy as np
import pytest

from mmreid_unsup.datasets import CUHK03NP


@pytest.fixture
def cuhk_root(tmp_path, write_images):
    root = tmp_path / 'cuhk03-np'
    for subset, pid in (('detected', 1), ('labeled', 2)):
        write_images(root / subset / 'bounding_box_train',
                     [f'{pid:04d}_c1_01.png', f'{pid:04d}_c2_06.png'])
        write_images(root / subset / 'query', ['0010_c1_1.png'])
        write_images(root / subset / 'bounding_box_test',
                     ['0010_c2_7.png', '0011_c1_2.png'])
    return root


@pytest.mark.parametrize('subset,pid', [('detected', 1), ('labeled', 2)])
def test_subsets(cuhk_root, subset, pid):
    ds = CUHK03NP(data_root=str(cuhk_root), subset=subset)
    np.testing.assert_array_equal(ds.get_pids(), [pid, pid])
    np.testing.assert_array_equal(ds.get_camids(), [0, 1])
    assert f'/{subset}/bounding_box_train/' in ds.get_data_info(0)['img_path']
    assert ds.metainfo['subset'] == subset


def test_test_split(cuhk_root):
    ds = CUHK03NP(data_root=str(cuhk_root), split='test')
    np.testing.assert_array_equal(ds.get_pids(), [10, 10, 11])
    np.testing.assert_array_equal(ds.get_is_query(), [True, False, False])


def test_unknown_subset(cuhk_root):
    with pytest.raises(ValueError, match="subset must be one of.*'both'"):
        CUHK03NP(data_root=str(cuhk_root), subset='both')


def test_missing_subset_folder(tmp_path, write_images):
    write_images(tmp_path / 'detected' / 'bounding_box_train',
                 ['0001_c1_01.png'])
    with pytest.raises(FileNotFoundError) as err:
        CUHK03NP(data_root=str(tmp_path), subset='labeled')
    assert str(tmp_path / 'labeled' / 'bounding_box_train') in str(err.value)
    assert 'named like 0001_c1_01.png' in str(err.value)


def test_jpg_files_are_not_read(tmp_path, write_images):
    write_images(tmp_path / 'detected' / 'bounding_box_train',
                 ['0001_c1_01.jpg'])
    with pytest.raises(ValueError, match=r'split is empty.*\*\.png'):
        CUHK03NP(data_root=str(tmp_path))
