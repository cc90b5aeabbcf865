import numpy as np
import pytest

from mmreid_unsup.datasets import MSMT17

TRAIN = ['0000/0000_000_01_0303morning_0015_0.jpg',
         '0000/0000_001_07_0303noon_0021_1.jpg']
VAL = ['0001/0001_000_15_0303afternoon_0101_0.jpg']
QUERY = ['0000/0000_000_02_0303morning_0036_0.jpg']
GALLERY = ['0000/0000_001_05_0303noon_0900_1.jpg',
           '0002/0002_000_11_0304morning_0005_0.jpg']


def write_msmt(root, write_images, version='V1'):
    train_dir, test_dir = MSMT17.IMAGE_DIRS[version]
    lists = dict(train=(train_dir, TRAIN, 0), val=(train_dir, VAL, 1),
                 query=(test_dir, QUERY, 0), gallery=(test_dir, GALLERY, 0))
    for name, (image_dir, paths, first_pid) in lists.items():
        lines = []
        for path in paths:
            folder, file = path.split('/')
            write_images(root / image_dir / folder, [file])
            lines.append(f'{path} {int(folder)}\n')
        (root / f'list_{name}.txt').write_text(''.join(lines))
    return root


@pytest.mark.parametrize('version', ['V1', 'V2'])
def test_train_with_and_without_val(tmp_path, write_images, version):
    root = write_msmt(tmp_path, write_images, version)
    ds = MSMT17(data_root=str(root))
    assert ds.version == version
    np.testing.assert_array_equal(ds.get_pids(), [0, 0, 1])
    np.testing.assert_array_equal(ds.get_camids(), [0, 6, 14])
    train_dir = MSMT17.IMAGE_DIRS[version][0]
    assert ds.get_data_info(0)['img_path'] == str(root / train_dir / TRAIN[0])
    assert len(MSMT17(data_root=str(root), use_val_in_train=False)) == 2


def test_test_split(tmp_path, write_images):
    root = write_msmt(tmp_path, write_images)
    ds = MSMT17(data_root=str(root), split='test')
    np.testing.assert_array_equal(ds.get_pids(), [0, 0, 2])
    np.testing.assert_array_equal(ds.get_camids(), [1, 4, 10])
    np.testing.assert_array_equal(ds.get_is_query(), [True, False, False])
    assert '/test/' in ds.get_data_info(0)['img_path']


def test_missing_layout(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        MSMT17(data_root=str(tmp_path))
    assert str(tmp_path / 'train') in str(err.value)
    assert str(tmp_path / 'mask_train_v2') in str(err.value)
    assert 'list_train.txt' in str(err.value)


def test_missing_list(tmp_path, write_images):
    root = write_msmt(tmp_path, write_images)
    (root / 'list_val.txt').unlink()
    with pytest.raises(FileNotFoundError, match=str(root / 'list_val.txt')):
        MSMT17(data_root=str(root))


def test_wrong_version_folder(tmp_path, write_images):
    root = write_msmt(tmp_path, write_images, 'V1')
    with pytest.raises(FileNotFoundError, match=str(root / 'mask_train_v2')):
        MSMT17(data_root=str(root), version='V2')


@pytest.mark.parametrize('line', [
    '0000/0000_000_01_0303morning_0015_0.jpg',
    '0000/0000_000_01_0303morning_0015_0.jpg zero',
    '0000/badname.jpg 0',
])
def test_bad_list_line(tmp_path, write_images, line):
    root = write_msmt(tmp_path, write_images)
    with open(root / 'list_query.txt', 'a') as f:
        f.write(line + '\n')
    with pytest.raises(ValueError) as err:
        MSMT17(data_root=str(root), split='query')
    assert f'{root / "list_query.txt"}, line 2: cannot parse' in str(
        err.value)


def test_unknown_version(tmp_path):
    with pytest.raises(ValueError, match="version must be 'V1', 'V2'"):
        MSMT17(data_root=str(tmp_path), version='V3')
