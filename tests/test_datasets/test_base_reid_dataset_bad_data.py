"""BaseReIDDataset and bad data: the report at build time, ``bad_data``,
conversion of grayscale / alpha / 16-bit images, and images that break
after the build (skipped in training through a real DataLoader)."""
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.dataset import DefaultSampler, pseudo_collate
from mmengine.registry import DefaultScope
from torch.utils.data import DataLoader

from mmreid_unsup.datasets import Market1501, ReIDAnnotationDataset
from mmreid_unsup.datasets.bad_data_report import (BadDataError,
                                                   BrokenImageError)

TRAIN = 'bounding_box_train'
GOOD = [
    '0001_c1s1_000001_00.jpg', '0001_c2s1_000001_00.jpg',
    '0002_c1s1_000001_00.jpg', '0002_c2s1_000001_00.jpg'
]
# Market file name -> content kind (conftest.BAD_FILE_CONTENTS).
BAD = {
    '0003_c1s1_000001_00.jpg': 'truncated_jpeg',
    '0003_c2s1_000001_00.jpg': 'empty',
    '0004_c1s1_000001_00.jpg': 'not_image',
    '0004_c2s1_000001_00.jpg': 'grayscale',
    '0005_c1s1_000001_00.jpg': 'rgba',
    '0005_c2s1_000001_00.jpg': 'gray16',
    '0006_c1s1_000001_00.jpg': 'corrupt_png',
    '0006_c9s1.jpg': 'ok',  # off the naming pattern
}
LOAD_AND_PACK = [dict(type='LoadImageFromFile'), dict(type='PackReIDInputs')]


@pytest.fixture(autouse=True)
def default_scope():
    with DefaultScope.overwrite_default_scope('mmreid_unsup'):
        yield


@pytest.fixture
def bad_market(tmp_path, write_bad_file) -> Path:
    root = tmp_path / 'market'
    for name in GOOD:
        write_bad_file(root / TRAIN / name, 'ok')
    for name, kind in BAD.items():
        write_bad_file(root / TRAIN / name, kind)
    return root


def train_path(root: Path, name: str) -> str:
    return str(root / TRAIN / name)


def test_error_mode_stops_with_the_whole_report(bad_market):
    with pytest.raises(BadDataError) as err:
        Market1501(data_root=str(bad_market))
    text = str(err.value)
    assert text.splitlines()[0] == (
        "Market1501, split 'train': 4 of 12 entries unusable, 3 convertible "
        '(header check of 11 files, ' + text.splitlines()[0].split(', ')[-1])
    for kind, count, name in [
        ('corrupt', 1, '0003_c1s1_000001_00.jpg'),
        ('empty', 1, '0003_c2s1_000001_00.jpg'),
        ('not_image', 1, '0004_c1s1_000001_00.jpg'),
        ('bad_name', 1, '0006_c9s1.jpg'),
        ('grayscale', 1, '0004_c2s1_000001_00.jpg'),
        ('alpha', 1, '0005_c1s1_000001_00.jpg'),
        ('high_bit_depth', 1, '0005_c2s1_000001_00.jpg'),
    ]:
        assert f'  {kind} (' in text and f'): {count}\n' in text
        assert f'    {train_path(bad_market, name)}: ' in text
    assert 'no JPEG end marker' in text
    assert "set bad_data='skip'" in text
    # The header check does not decode: the garbled pixel data passes.
    assert '0006_c1s1_000001_00.jpg' not in text


def test_skip_mode_drops_unusable_keeps_convertible(bad_market, log_lines):
    ds = Market1501(data_root=str(bad_market), bad_data='skip')
    kept = [Path(ds.get_data_info(i)['img_path']).name for i in range(len(ds))]
    assert kept == sorted(GOOD + [
        '0004_c2s1_000001_00.jpg', '0005_c1s1_000001_00.jpg',
        '0005_c2s1_000001_00.jpg', '0006_c1s1_000001_00.jpg'
    ])
    assert [info['sample_idx'] for info in map(ds.get_data_info, range(
        len(ds)))] == list(range(len(ds)))
    assert ds.bad_data_report.counts == dict(
        corrupt=1, empty=1, not_image=1, bad_name=1, grayscale=1, alpha=1,
        high_bit_depth=1)
    warning = [line for line in log_lines if line.startswith('WARNING')]
    assert len(warning) == 1
    assert "bad_data='skip': the 4 unusable entries are left out" in \
        warning[0]
    assert train_path(bad_market, '0003_c2s1_000001_00.jpg') in warning[0]


def test_decode_check_finds_garbled_pixel_data(bad_market):
    ds = Market1501(
        data_root=str(bad_market), bad_data='skip', image_check='decode')
    assert ds.bad_data_report.counts['corrupt'] == 2
    listed = [e.location for e in ds.bad_data_report.listed['corrupt']]
    assert train_path(bad_market, '0006_c1s1_000001_00.jpg') in listed
    assert len(ds) == 7


def test_convert_images_false_rejects_them(bad_market):
    ds = Market1501(
        data_root=str(bad_market), bad_data='skip', convert_images=False)
    assert len(ds) == len(GOOD) + 1  # + the garbled PNG, header check
    with pytest.raises(BadDataError, match='rejected .convert_images=False'):
        Market1501(data_root=str(bad_market), convert_images=False)


def test_clean_set_logs_one_info_line(tmp_path, write_bad_file, log_lines):
    for name in GOOD:
        write_bad_file(tmp_path / TRAIN / name, 'ok')
    ds = Market1501(data_root=str(tmp_path))
    assert len(ds) == 4 and not ds.bad_data_report
    assert any(
        line.startswith("INFO Market1501, split 'train': 4 entries, no bad "
                        'data (header check of 4 files') for line in log_lines)


def test_image_check_none_touches_no_file(tmp_path, write_bad_file):
    for name in GOOD:
        write_bad_file(tmp_path / TRAIN / name, 'empty')
    assert len(Market1501(data_root=str(tmp_path), image_check='none')) == 4


def test_split_emptied_by_the_check(tmp_path, write_bad_file):
    write_bad_file(tmp_path / TRAIN / GOOD[0], 'empty')
    write_bad_file(tmp_path / TRAIN / 'unparsed.jpg', 'ok')
    with pytest.raises(ValueError, match=r"'train' split is empty \(2 "
                       'unusable entries were left out, see the bad-data '
                       'report'):
        Market1501(data_root=str(tmp_path), bad_data='skip')


def test_annotation_file_problems(tmp_path, write_bad_file):
    write_bad_file(tmp_path / 'a.jpg', 'ok')
    write_bad_file(tmp_path / 'b.jpg', 'ok')
    (tmp_path / 'train.csv').write_text(
        'filename,pid,camid\n'
        'a.jpg,1,0\n'
        'gone.jpg,1,1\n'  # missing file
        'a.jpg,2,1\n'  # duplicate entry
        'b.jpg,,1\n'  # id missing
        'b.jpg,3\n'  # camid missing (short row); not a duplicate of the
        # rejected line 5: only accepted rows count as a file's first entry
        ',4,0\n')  # no file name
    csv = tmp_path / 'train.csv'
    with pytest.raises(BadDataError) as err:
        ReIDAnnotationDataset(data_root=str(tmp_path), ann_file='train.csv')
    text = str(err.value)
    assert text.splitlines()[0].startswith(
        "ReIDAnnotationDataset, split 'train': 5 of 6 entries unusable")
    assert f"{csv}, line 4: duplicate entry 'a.jpg' (first on line 2)" in text
    assert f'{csv}, line 5: pid is missing' in text
    assert f'{csv}, line 6: camid is missing' in text
    assert f'{csv}, line 7: empty filename' in text
    assert f'{tmp_path / "gone.jpg"}: no such file' in text
    ds = ReIDAnnotationDataset(
        data_root=str(tmp_path), ann_file='train.csv', bad_data='skip')
    assert len(ds) == 1 and ds.get_pids().tolist() == [1]


def test_image_in_query_and_gallery_is_a_duplicate(tmp_path, write_bad_file):
    write_bad_file(tmp_path / 'q.jpg', 'ok')
    write_bad_file(tmp_path / 'g.jpg', 'ok')
    (tmp_path / 'query.csv').write_text('filename,pid,camid\nq.jpg,1,0\n')
    (tmp_path / 'gallery.csv').write_text(
        'filename,pid,camid\ng.jpg,1,1\nq.jpg,1,0\n')
    kwargs = dict(
        data_root=str(tmp_path),
        split='test',
        query_ann_file='query.csv',
        gallery_ann_file='gallery.csv')
    with pytest.raises(BadDataError, match=r"q.jpg: occurs more than once in "
                       r"split 'test' \(entries 0 and 2\)"):
        ReIDAnnotationDataset(**kwargs)
    ds = ReIDAnnotationDataset(bad_data='skip', **kwargs)
    assert ds.get_is_query().tolist() == [True, False]


def test_bad_arguments_are_named(tmp_path):
    for kwargs, message in [
        (dict(bad_data='warn'), "bad_data must be one of .'error', 'skip'"),
        (dict(image_check='full'), 'image_check must be one of'),
        (dict(max_broken_images=-1), 'max_broken_images must be None or'),
    ]:
        with pytest.raises(ValueError, match=message):
            Market1501(data_root=str(tmp_path), **kwargs)


# ---------------------------------------------------------------- loading


def test_convertible_images_load_as_3_channel_8_bit(tmp_path, write_bad_file):
    names = dict(
        grayscale='g.jpg', rgba='a.png', gray16='g16.png', rgb16='c16.png')
    for kind, name in names.items():
        write_bad_file(tmp_path / name, kind)
    (tmp_path / 'train.csv').write_text('filename,pid,camid\n' + ''.join(
        f'{name},{i},0\n' for i, name in enumerate(names.values())))
    ds = ReIDAnnotationDataset(
        data_root=str(tmp_path), ann_file='train.csv',
        pipeline=LOAD_AND_PACK)
    assert ds.bad_data_report.counts == dict(
        grayscale=1, alpha=1, high_bit_depth=2)
    for idx, name in enumerate(names.values()):
        inputs = ds[idx]['inputs']
        assert inputs.dtype == torch.uint8 and inputs.shape == (3, 16, 8)
        raw = cv2.imread(str(tmp_path / name), cv2.IMREAD_UNCHANGED)
        if raw.dtype == np.uint16:  # 16 bits scaled to 8: the high byte
            raw = (raw >> 8).astype(np.int16)
        if raw.ndim == 2:  # grayscale: the same value in every channel
            raw = np.repeat(raw[..., None], 3, axis=2)
        expected = torch.from_numpy(raw[..., :3].copy()).permute(2, 0, 1)
        diff = (inputs.to(torch.int16) - expected.to(torch.int16)).abs()
        assert int(diff.max()) <= 1, name  # alpha dropped, BGR kept


def write_coloured_set(root: Path, num: int) -> ReIDAnnotationDataset:
    """``num`` PNGs whose grey level encodes their index, in one CSV."""
    for i in range(num):
        cv2.imwrite(str(root / f'{i:02d}.png'),
                    np.full((8, 4, 3), 10 * i, np.uint8))
    (root / 'train.csv').write_text('filename,pid,camid\n' + ''.join(
        f'{i:02d}.png,{i // 2},{i % 2}\n' for i in range(num)))
    return root


def build(root: Path, **kwargs) -> ReIDAnnotationDataset:
    kwargs.setdefault('ann_file', 'train.csv')
    return ReIDAnnotationDataset(
        data_root=str(root), pipeline=LOAD_AND_PACK, **kwargs)


def epoch(dataset, num_workers: int = 0, seed: int = 0) -> list:
    """Every sample of one shuffled epoch through a real DataLoader."""
    np.random.seed(seed)  # BaseDataset draws the replacements with numpy
    loader = DataLoader(
        dataset,
        batch_size=4,
        sampler=DefaultSampler(dataset, shuffle=True, seed=seed),
        num_workers=num_workers,
        collate_fn=pseudo_collate)
    return [(inputs, sample) for batch in loader
            for inputs, sample in zip(batch['inputs'], batch['data_samples'])]


@pytest.mark.parametrize('num_workers', [0, 2])
def test_image_broken_mid_epoch_is_replaced_by_another_sample(
        tmp_path, num_workers, log_lines):
    ds = build(write_coloured_set(tmp_path, 12), max_broken_images=5)
    (tmp_path / '03.png').unlink()
    (tmp_path / '07.png').write_bytes(b'\xff\xd8 garbage')
    samples = epoch(ds, num_workers)

    assert len(samples) == 12  # the epoch keeps its length
    seen = [int(s.sample_idx) for _, s in samples]
    assert 3 not in seen and 7 not in seen
    for inputs, sample in samples:
        # The replacement carries its own index, path and labels: memories
        # indexed by sample_idx get the features of the right image.
        idx = int(sample.sample_idx)
        assert sample.img_path == str(tmp_path / f'{idx:02d}.png')
        assert sample.pid == idx // 2 and sample.camid == idx % 2
        assert bool((inputs == 10 * idx).all())
    if num_workers == 0:  # the workers log in their own processes
        warnings = [line for line in log_lines if 'skipped' in line]
        assert len(warnings) == 2
        assert any(f'cannot load sample 3, {tmp_path / "03.png"}: missing: '
                   'no such file (FileNotFoundError' in w for w in warnings)
        assert any('sample 7' in w and 'not_image' in w for w in warnings)
        assert 'another random sample of the dataset takes its place' in \
            warnings[0]


def test_too_many_broken_images_stop_the_run(tmp_path):
    ds = build(write_coloured_set(tmp_path, 12), max_broken_images=2)
    for i in (1, 4, 9):
        (tmp_path / f'{i:02d}.png').unlink()
    with pytest.raises(BrokenImageError, match='3 different images failed to '
                       'load in this process, more than max_broken_images=2'):
        epoch(ds)


def test_default_bound_is_one_percent_at_least_ten(tmp_path):
    ds = build(write_coloured_set(tmp_path, 12))
    for i in range(11):
        (tmp_path / f'{i:02d}.png').unlink()
    with pytest.raises(BrokenImageError, match='max_broken_images=10'):
        epoch(ds)


@pytest.mark.parametrize('kwargs', [
    dict(test_mode=True),  # feature extraction of the training set
    dict(split='query', query_ann_file='train.csv'),  # evaluation
])
def test_no_skipping_where_indices_matter(tmp_path, kwargs):
    ds = build(write_coloured_set(tmp_path, 4), **kwargs)
    (tmp_path / '02.png').unlink()
    assert int(ds[1]['data_samples'].sample_idx) == 1
    with pytest.raises(BrokenImageError) as err:
        ds[2]
    assert f'cannot load sample 2, {tmp_path / "02.png"}: missing' in str(
        err.value)
    assert 'restore the file' in str(err.value)


def test_a_transform_bug_is_not_bad_data(tmp_path):
    calls = []

    def buggy(results):
        calls.append(results['img_path'])
        raise KeyError('bug in a transform')

    ds = ReIDAnnotationDataset(
        data_root=str(write_coloured_set(tmp_path, 4)),
        ann_file='train.csv',
        pipeline=[dict(type='LoadImageFromFile'), buggy])
    with pytest.raises(KeyError, match='bug in a transform'):
        ds[0]
    assert len(calls) == 2  # retried once: the file decodes


def test_loader_that_returns_none_is_counted(tmp_path, log_lines):
    ds = ReIDAnnotationDataset(
        data_root=str(write_coloured_set(tmp_path, 4)),
        ann_file='train.csv',
        max_broken_images=3,
        pipeline=[
            dict(type='LoadImageFromFile', ignore_empty=True),
            dict(type='PackReIDInputs')
        ])
    shutil.copy(tmp_path / 'train.csv', tmp_path / '00.png')  # not an image
    np.random.seed(0)
    assert int(ds[0]['data_samples'].sample_idx) != 0
    assert any('cannot load sample 0' in line and 'not_image' in line
               for line in log_lines)
