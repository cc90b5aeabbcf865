"""tools/misc/camera_folders.py: crops of a CSV linked into camera folders."""
import cv2
import numpy as np
import pytest

from mmreid_unsup.datasets import CameraFolderDataset
from tiny_cluster_contrast import REPO_ROOT, load_script


def tool():
    return load_script(REPO_ROOT / 'tools' / 'misc' / 'camera_folders.py',
                       'camera_folders_tool')


@pytest.fixture
def listed(tmp_path):
    root = tmp_path / 'data'
    (root / 'img').mkdir(parents=True)
    for name in ('a.jpg', 'b.jpg', 'c.jpg'):
        (root / 'img' / name).write_bytes(b'jpeg')
    (root / 'train.csv').write_text(
        'filename,pid,camid\nimg/a.jpg,3,1\nimg/b.jpg,4,2\nimg/c.jpg,3,2\n')
    return root


@pytest.mark.parametrize('copy', [False, True])
def test_one_folder_per_camera(listed, tmp_path, copy):
    out = tmp_path / 'cams'
    counts = tool().main([str(listed), 'train.csv', str(out)] +
                         (['--copy'] if copy else []))
    assert counts == {'cam_1': 1, 'cam_2': 2}
    assert sorted(p.name for p in (out / 'cam_2').iterdir()) == [
        'b.jpg', 'c.jpg'
    ]
    assert (out / 'cam_1' / 'a.jpg').is_symlink() is not copy
    assert (out / 'cam_1' / 'a.jpg').read_bytes() == b'jpeg'


def test_the_folders_are_a_camera_folder_dataset(tmp_path):
    root = tmp_path / 'data'
    root.mkdir()
    img = np.full((16, 8, 3), 127, dtype=np.uint8)
    for name in ('a.jpg', 'b.jpg'):
        assert cv2.imwrite(str(root / name), img)
    (root / 'train.csv').write_text(
        'filename,pid,camid\na.jpg,3,1\nb.jpg,3,2\n')
    tool().main([str(root), 'train.csv', str(tmp_path / 'cams')])
    ds = CameraFolderDataset(data_root=str(tmp_path / 'cams'))
    assert ds.metainfo['camera_names'] == ['cam_1', 'cam_2']
    assert list(ds.get_camids()) == [0, 1]


def test_refuses_what_would_lose_or_mix_files(listed, tmp_path):
    script = tool()
    out = tmp_path / 'cams'
    out.mkdir()
    with pytest.raises(SystemExit, match='exists'):
        script.main([str(listed), 'train.csv', str(out)])
    (listed / 'bad.csv').write_text('filename,camid\nimg/nope.jpg,1\n')
    with pytest.raises(SystemExit, match='line 2: .*nope.jpg does not'):
        script.main([str(listed), 'bad.csv', str(tmp_path / 'x')])
    (listed / 'nocam.csv').write_text('filename,pid\nimg/a.jpg,1\n')
    with pytest.raises(SystemExit, match=r"no column \['camid'\]"):
        script.main([str(listed), 'nocam.csv', str(tmp_path / 'y')])
    (listed / 'twice.csv').write_text(
        'filename,camid\nimg/a.jpg,1\n./img/a.jpg,1\n')
    with pytest.raises(SystemExit, match='both become'):
        script.main([str(listed), 'twice.csv', str(tmp_path / 'z')])
    assert not (tmp_path / 'z').exists()
