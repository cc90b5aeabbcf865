import json
from collections import defaultdict

import cv2
import numpy as np
import pytest

from mmreid_unsup.datasets import Market1501
from mmreid_unsup.datasets.synthetic import generate_synthetic_reid

SMALL = dict(
    num_train_ids=12,
    num_test_ids=8,
    num_cams=3,
    images_per_id_per_cam=3,
    progress=False)


@pytest.fixture(scope='module')
def small_set(tmp_path_factory):
    out = tmp_path_factory.mktemp('synthetic')
    counts = generate_synthetic_reid(str(out), seed=3, **SMALL)
    return out, counts


def read_files(root):
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob('*')) if p.is_file()
    }


def test_same_seed_gives_identical_bytes(small_set, tmp_path):
    root, _ = small_set
    generate_synthetic_reid(str(tmp_path / 'again'), seed=3, **SMALL)
    first, second = read_files(root), read_files(tmp_path / 'again')
    assert len(first) > 100
    assert first == second


def test_other_seed_gives_other_images(small_set, tmp_path):
    root, _ = small_set
    generate_synthetic_reid(str(tmp_path / 'other'), seed=4, **SMALL)
    first, other = read_files(root), read_files(tmp_path / 'other')
    shared = set(first) & set(other) - {'meta.json'}
    assert all(first[name] != other[name] for name in shared)


def test_readable_by_market_loader_with_counts(small_set):
    root, counts = small_set
    train = Market1501(data_root=str(root), split='train')
    test = Market1501(data_root=str(root), split='test')
    is_query = test.get_is_query()
    assert len(train) == counts['num_train']
    assert is_query.sum() == counts['num_query']
    assert (~is_query).sum() == counts['num_gallery']
    assert train.num_ids == 12 and test.num_ids == 8
    assert set(train.get_pids()) == set(range(1, 13))
    assert set(test.get_pids()) == set(range(13, 21))
    assert max(train.num_cams, test.num_cams) <= 3
    img = cv2.imread(train.get_data_info(0)['img_path'])
    assert img.shape == (128, 64, 3)

    meta = json.loads((root / 'meta.json').read_text())
    assert meta['complete'] and meta['counts'] == counts
    assert meta['params']['seed'] == 3 and meta['generator_version']


def test_market_protocol(small_set):
    """Every test id is seen by >= 2 cameras, with one query per camera,
    and the gallery holds its other images of those cameras."""
    root, _ = small_set
    test = Market1501(data_root=str(root), split='test')
    pids, camids = test.get_pids(), test.get_camids()
    is_query = test.get_is_query()
    queries, gallery = defaultdict(list), defaultdict(set)
    for pid, cam, q in zip(pids, camids, is_query):
        if q:
            queries[pid].append(cam)
        else:
            gallery[pid].add(cam)
    for pid, cams in queries.items():
        assert len(cams) == len(set(cams)) >= 2
        assert gallery[pid] == set(cams)
    train = Market1501(data_root=str(root), split='train')
    train_cams = defaultdict(set)
    for pid, cam in zip(train.get_pids(), train.get_camids()):
        train_cams[pid].add(cam)
    assert all(len(cams) >= 2 for cams in train_cams.values())


def pixel_features(dataset):
    feats = []
    for i in range(len(dataset)):
        img = cv2.imread(dataset.get_data_info(i)['img_path'])
        small = cv2.resize(img, (8, 16), interpolation=cv2.INTER_AREA)
        feats.append(small.astype(np.float32).ravel())
    feats = np.stack(feats)
    feats -= feats.mean(0)
    return feats / np.linalg.norm(feats, axis=1, keepdims=True)


def test_camera_shift_dominates_raw_pixels(small_set):
    root, _ = small_set
    ds = Market1501(data_root=str(root), split='train')
    feats, pids, camids = pixel_features(ds), ds.get_pids(), ds.get_camids()
    sim = feats @ feats.T
    np.fill_diagonal(sim, -np.inf)
    nearest = sim.argmax(1)
    same_cam = (camids[nearest] == camids).mean()
    same_id = (pids[nearest] == pids).mean()
    assert same_cam > same_id
    # Far above chance (about 1 / num_cams): images group by camera.
    assert same_cam > 0.7
    # ... while within one camera the identity is what differs
    sim[camids[:, None] != camids[None, :]] = -np.inf
    nearest_in_cam = sim.argmax(1)
    # (chance: about 1 / identities per camera, under 0.1 here)
    assert (pids[nearest_in_cam] == pids).mean() > 0.35


def test_complete_set_is_not_regenerated(tmp_path):
    out = tmp_path / 'set'
    counts = generate_synthetic_reid(str(out), seed=0, **SMALL)
    image = next((out / 'query').iterdir())
    image.write_bytes(b'marker')
    assert generate_synthetic_reid(str(out), seed=0, **SMALL) == counts
    assert image.read_bytes() == b'marker'

    # other parameters or a missing image: generated again
    image.unlink()
    generate_synthetic_reid(str(out), seed=0, **SMALL)
    assert image.read_bytes()[:2] == b'\xff\xd8'  # a JPEG again
    generate_synthetic_reid(str(out), seed=1, **SMALL)
    meta = json.loads((out / 'meta.json').read_text())
    assert meta['params']['seed'] == 1
    assert len(Market1501(data_root=str(out), split='train')) == meta[
        'counts']['num_train']


def test_refuses_to_overwrite_foreign_data(tmp_path, write_images):
    write_images(tmp_path / 'query', ['0001_c1s1_000001_00.jpg'])
    with pytest.raises(FileExistsError, match='overwrite=True'):
        generate_synthetic_reid(str(tmp_path), **SMALL)
    assert (tmp_path / 'query' / '0001_c1s1_000001_00.jpg').is_file()
    generate_synthetic_reid(str(tmp_path), overwrite=True, **SMALL)
    assert len(Market1501(data_root=str(tmp_path), split='query')) > 0


@pytest.mark.parametrize('kwargs,message', [
    (dict(num_cams=1), 'num_cams'),
    (dict(images_per_id_per_cam=1), 'images_per_id_per_cam'),
    (dict(num_test_ids=0), 'num_test_ids'),
])
def test_bad_arguments(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        generate_synthetic_reid(str(tmp_path), **dict(SMALL, **kwargs))


def test_custom_image_size(tmp_path):
    generate_synthetic_reid(
        str(tmp_path), img_size=(64, 32), **dict(SMALL, num_train_ids=2,
                                                 num_test_ids=1))
    img = cv2.imread(str(next((tmp_path / 'bounding_box_train').iterdir())))
    assert img.shape == (64, 32, 3)
