"""CameraFolderDataset: unlabeled crops, one folder per camera."""
import numpy as np
import pytest

from mmreid_unsup.datasets import (UNKNOWN_PID, BadDataError,
                                   CameraFolderDataset)
from mmreid_unsup.registry import DATASETS


@pytest.fixture
def crops(tmp_path, write_images):
    root = tmp_path / 'my_cameras'
    write_images(root / 'platform_2', ['b.png', 'a.jpg'])
    write_images(root / 'entrance', ['x.JPG'])
    write_images(root / 'entrance' / '2026-12-01', ['y.jpeg'])
    (root / 'entrance' / 'notes.txt').write_text('not an image')
    write_images(root / '.thumbnails', ['t.jpg'])  # hidden: not a camera
    return root


def test_cameras_are_the_sorted_folders(crops):
    ds = DATASETS.build(dict(type='CameraFolderDataset',
                             data_root=str(crops)))
    assert ds.metainfo['camera_names'] == ['entrance', 'platform_2']
    paths = [ds.get_data_info(i)['img_path'] for i in range(len(ds))]
    assert [p[len(str(crops)) + 1:] for p in paths] == [
        'entrance/x.JPG', 'entrance/2026-12-01/y.jpeg', 'platform_2/a.jpg',
        'platform_2/b.png'
    ]
    np.testing.assert_array_equal(ds.get_camids(), [0, 0, 1, 1])
    # Unknown identities: kept (not junk), and never taken for true ids.
    np.testing.assert_array_equal(ds.get_pids(), [UNKNOWN_PID] * 4)
    assert UNKNOWN_PID < -1


def test_an_image_outside_the_camera_folders_is_bad_data(crops,
                                                         write_images):
    write_images(crops, ['loose.jpg'])
    with pytest.raises(BadDataError, match='loose.jpg'):
        CameraFolderDataset(data_root=str(crops))
    ds = CameraFolderDataset(data_root=str(crops), bad_data='skip')
    assert len(ds) == 4


def test_clear_errors(tmp_path, write_images):
    with pytest.raises(FileNotFoundError, match='does not exist.*<camera>'):
        CameraFolderDataset(data_root=str(tmp_path / 'nope'))
    write_images(tmp_path / 'flat', ['a.jpg'])
    with pytest.raises(FileNotFoundError,
                       match='no camera folder.*only loose images'):
        CameraFolderDataset(data_root=str(tmp_path / 'flat'))
    (tmp_path / 'empty' / 'cam1').mkdir(parents=True)
    with pytest.raises(ValueError, match="'train' split is empty"):
        CameraFolderDataset(data_root=str(tmp_path / 'empty'))
    for bad, match in ((dict(split='test'), "split must be 'train'"),
                       (dict(num_holdout_ids=5), 'num_holdout_ids must be 0')):
        with pytest.raises(ValueError, match=match):
            CameraFolderDataset(data_root=str(tmp_path / 'flat'), **bad)
