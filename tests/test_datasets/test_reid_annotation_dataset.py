from pathlib import Path

import numpy as np
import pytest

from mmreid_unsup.datasets import ReIDAnnotationDataset
from mmreid_unsup.registry import DATASETS
from tiny_cluster_contrast import shared_dir

SHARED_DIR = shared_dir()
CUHK03 = SHARED_DIR / 'data' / 'cuhk03'


def write_csv(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


@pytest.fixture
def ann_root(tmp_path, write_images):
    write_images(tmp_path / 'img',
                 ['a.jpg', 'b.jpg', 'q.jpg', 'g1.jpg', 'g2.jpg'])
    write_csv(tmp_path / 'train.csv',
              'filename,pid,camid\nimg/a.jpg,3,1\nimg/b.jpg,3,2\n'
              'img/junk.jpg,-1,1\n')
    write_csv(tmp_path / 'query.csv', 'filename,pid,camid,note\n'
              'img/q.jpg,7,1,x\n')
    write_csv(tmp_path / 'gallery.csv',
              'camid,filename,pid\n2,img/g1.jpg,7\n3,img/g2.jpg,8\n')
    return tmp_path


def test_train(ann_root):
    ds = ReIDAnnotationDataset(
        data_root=str(ann_root), ann_file='train.csv', camid_base=1)
    assert len(ds) == 2
    assert ds.get_data_info(0)['img_path'] == str(ann_root / 'img' / 'a.jpg')
    np.testing.assert_array_equal(ds.get_pids(), [3, 3])
    np.testing.assert_array_equal(ds.get_camids(), [0, 1])


def test_camids_as_given_by_default(ann_root):
    ds = ReIDAnnotationDataset(data_root=str(ann_root), ann_file='train.csv')
    np.testing.assert_array_equal(ds.get_camids(), [1, 2])


def test_query_and_gallery_share_the_camera_mapping(ann_root):
    # The query file only has camera 1, the gallery cameras 2 and 3: a
    # per-file rule such as "subtract the minimum" would map both to 0.
    ds = ReIDAnnotationDataset(
        data_root=str(ann_root),
        split='test',
        query_ann_file='query.csv',
        gallery_ann_file='gallery.csv',
        camid_base=1)
    np.testing.assert_array_equal(ds.get_camids(), [0, 1, 2])
    np.testing.assert_array_equal(ds.get_is_query(), [True, False, False])
    np.testing.assert_array_equal(ds.get_pids(), [7, 7, 8])


def test_absolute_annotation_paths(ann_root):
    ds = ReIDAnnotationDataset(
        data_root=str(ann_root),
        split='query',
        query_ann_file=str(ann_root / 'query.csv'))
    assert len(ds) == 1


def test_split_needs_its_file(ann_root):
    with pytest.raises(ValueError, match='`gallery_ann_file` is not set'):
        ReIDAnnotationDataset(
            data_root=str(ann_root),
            split='test',
            query_ann_file='query.csv')


def test_missing_file(ann_root):
    with pytest.raises(FileNotFoundError,
                       match=str(ann_root / 'nope.csv') + ' does not exist'):
        ReIDAnnotationDataset(data_root=str(ann_root), ann_file='nope.csv')


def test_missing_columns_are_named(tmp_path):
    path = write_csv(tmp_path / 'a.csv', 'file,pid\nx.jpg,1\n')
    with pytest.raises(ValueError) as err:
        ReIDAnnotationDataset(data_root=str(tmp_path), ann_file='a.csv')
    assert f'{path} lacks the column(s) filename, camid' in str(err.value)


@pytest.mark.parametrize('row,message', [
    ('x.jpg,one,1', "line 3: pid 'one' is not an integer"),
    ('x.jpg,1,1.5', "line 3: camid '1.5' is not an integer"),
    ('x.jpg,1,', 'line 3: camid is missing'),
    (',1,1', 'line 3: empty filename'),
    ('a.jpg,2,2', "line 3: duplicate entry 'a.jpg' (first on line 2)"),
    ('y.jpg,1,0', 'line 3: camid 0 is below camid_base=1'),
    ('y.jpg,-5,1', 'line 3: pid -5 is negative; expected an id >= 0, or -1 '
     'for a junk image (dropped)'),
    ('y.jpg,9223372036854775808,1', 'line 3: pid 9223372036854775808 does '
     'not fit in int64 (|pid| <= 9223372036854775807)'),
    ('y.jpg,1,-99999999999999999999', 'line 3: camid -99999999999999999999 '
     'does not fit in int64'),
    ('./a.jpg,2,2', "line 3: duplicate entry './a.jpg' (first on line 2, "
     "the same file as 'a.jpg')"),
    ('img/../a.jpg,2,2', "line 3: duplicate entry 'img/../a.jpg'"),
    ('../y.jpg,1,1', "line 3: filename '../y.jpg' climbs out of data_root"),
    ('img/../../y.jpg,1,1', "line 3: filename 'img/../../y.jpg' climbs out"),
    ('/etc/y.jpg,1,1', "line 3: filename '/etc/y.jpg' is absolute; expected "
     'a path relative to data_root'),
])
def test_bad_rows_name_file_and_line(tmp_path, row, message):
    path = write_csv(tmp_path / 'a.csv',
                     f'filename,pid,camid\na.jpg,1,1\n{row}\n')
    with pytest.raises(ValueError) as err:
        ReIDAnnotationDataset(
            data_root=str(tmp_path), ann_file='a.csv', camid_base=1)
    assert f'{path}, {message}' in str(err.value)


def test_bad_rows_are_counted_by_kind_and_skipped(tmp_path, write_images):
    write_images(tmp_path / 'img', ['a.jpg', 'b.jpg'])
    write_csv(
        tmp_path / 'a.csv', 'filename,pid,camid\nimg/a.jpg,1,1\n'
        'img/b.jpg,-2,1\nimg/./a.jpg,1,1\n../img/b.jpg,1,1\n'
        'img/b.jpg,99999999999999999999,1\nimg//b.jpg,2,2\n')
    ds = ReIDAnnotationDataset(
        data_root=str(tmp_path), ann_file='a.csv', bad_data='skip')
    assert [ds.get_data_info(i)['img_path'] for i in range(len(ds))] == [
        str(tmp_path / 'img' / 'a.jpg'),
        str(tmp_path / 'img' / 'b.jpg')
    ]
    assert ds.get_pids().tolist() == [1, 2]
    assert ds.bad_data_report.counts == dict(
        missing_id=2, duplicate=1, outside_root=1)
    assert 'outside_root (path outside data_root' in \
        ds.bad_data_report.format()


def test_non_utf8_file_names_file_line_and_bytes(tmp_path):
    path = tmp_path / 'a.csv'
    path.write_bytes('filename,pid,camid\na.jpg,1,1\ncaf\xe9.jpg,2,1\n'
                     .encode('latin-1'))
    with pytest.raises(ValueError) as err:
        ReIDAnnotationDataset(data_root=str(tmp_path), ann_file='a.csv')
    message = str(err.value)
    assert (f"{path}, line 3: not UTF-8 text (byte 32, b'\\xe9': invalid "
            'continuation byte)') in message
    assert 'saved as UTF-8' in message
    # After a byte-order mark the offset still counts from the file's start.
    path.write_bytes(b'\xef\xbb\xbf' + path.read_bytes())
    with pytest.raises(ValueError, match=r'line 3: not UTF-8 text \(byte 35'):
        ReIDAnnotationDataset(data_root=str(tmp_path), ann_file='a.csv')


def test_spreadsheet_bom_and_spaces(tmp_path, write_images):
    write_images(tmp_path, ['x.jpg'])
    write_csv(tmp_path / 'a.csv', '\ufefffilename, pid, camid\nx.jpg, 4, 2\n')
    ds = ReIDAnnotationDataset(data_root=str(tmp_path), ann_file='a.csv')
    assert ds.get_data_info(0)['img_path'] == str(tmp_path / 'x.jpg')
    assert ds.get_pids()[0] == 4 and ds.get_camids()[0] == 2


def test_header_only_is_empty(tmp_path):
    path = write_csv(tmp_path / 'a.csv', 'filename,pid,camid\n')
    with pytest.raises(ValueError, match=f"'train' split is empty.*{path}"):
        ReIDAnnotationDataset(data_root=str(tmp_path), ann_file='a.csv')


@pytest.mark.skipif(
    not (CUHK03 / 'splits' / 'dev_train.csv').is_file(),
    reason=f'real CUHK03 crops not found at {CUHK03} '
    '(set MMREID_SHARED_DIR to the folder holding data/cuhk03)')
class TestRealCUHK03:

    def test_dev_train(self):
        ds = DATASETS.build(
            dict(
                type='ReIDAnnotationDataset',
                data_root=str(CUHK03),
                ann_file='splits/dev_train.csv',
                camid_base=1))
        assert len(ds) == 5452
        assert ds.num_ids == 567
        camids = ds.get_camids()
        assert camids.min() == 0 and ds.num_cams == 10
        assert Path(ds.get_data_info(0)['img_path']).is_file()

    def test_dev_test(self):
        ds = ReIDAnnotationDataset(
            data_root=str(CUHK03),
            split='test',
            query_ann_file='splits/dev_query.csv',
            gallery_ann_file='splits/dev_gallery.csv',
            camid_base=1)
        is_query = ds.get_is_query()
        pids = ds.get_pids()
        assert ds.num_ids == 200
        # every query identity has a gallery image
        assert set(pids[is_query]) <= set(pids[~is_query])
        assert Path(ds.get_data_info(len(ds) - 1)['img_path']).is_file()
