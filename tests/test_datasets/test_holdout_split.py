"""Held-out training identities as a validation query / gallery."""
from collections import defaultdict
from typing import List

import numpy as np
import pytest

from mmreid_unsup.datasets import BaseReIDDataset, SyntheticReID
from mmreid_unsup.datasets.holdout import select_holdout_ids


class GridReID(BaseReIDDataset):
    """Training identity ``p`` has ``images[p % len(images)]`` images in
    each of its cameras ``0..cams[p % len(cams)] - 1``."""

    def __init__(self, num_ids=12, cams=(3, 2), images=(2, 1, 3), **kwargs):
        self.num_ids_, self.cams, self.images = num_ids, cams, images
        kwargs.setdefault('image_check', 'none')  # the files do not exist
        super().__init__(**kwargs)

    def describe_split(self, split):
        return f'/grid/{split}'

    def load_split(self, split) -> List[dict]:
        if split != 'train':
            return [dict(img_path=f'/grid/{split}/x.jpg', pid=999, camid=0)]
        samples = []
        for pid in range(self.num_ids_):
            for cam in range(self.cams[pid % len(self.cams)]):
                for n in range(self.images[pid % len(self.images)]):
                    samples.append(
                        dict(img_path=f'/grid/{pid}_{cam}_{n}.jpg', pid=pid,
                             camid=cam))
        return samples


def by_pid(dataset):
    out = defaultdict(list)
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        out[info['pid']].append(info)
    return out


def test_train_and_holdout_partition_the_training_images():
    full = GridReID(split='train')
    train = GridReID(split='train', num_holdout_ids=4, holdout_seed=3)
    held = GridReID(split='holdout', num_holdout_ids=4, holdout_seed=3)
    train_ids, held_ids = set(train.get_pids()), set(held.get_pids())
    assert len(held_ids) == 4 and not train_ids & held_ids
    assert train_ids | held_ids == set(full.get_pids())
    assert len(train) + len(held) == len(full)
    assert sorted(train.get_data_info(i)['img_path'] for i in range(
        len(train))) == sorted(
            full.get_data_info(i)['img_path'] for i in range(len(full))
            if full.get_data_info(i)['pid'] not in held_ids)
    # Queries first; sample_idx follows the new order.
    is_query = held.get_is_query()
    assert is_query.any() and not is_query[np.argmin(is_query):].any()
    assert held.metainfo['num_holdout_ids'] == 4
    assert held.metainfo['split'] == 'holdout'


@pytest.mark.parametrize('seed', range(5))
def test_every_query_has_a_cross_camera_match(seed):
    held = GridReID(split='holdout', num_holdout_ids=5, holdout_seed=seed)
    for pid, infos in by_pid(held).items():
        queries = [s for s in infos if s['is_query']]
        gallery = [s for s in infos if not s['is_query']]
        assert queries, pid
        for query in queries:
            assert any(g['camid'] != query['camid'] for g in gallery), pid
        # At most one query per camera.
        assert len({q['camid'] for q in queries}) == len(queries)


def test_ineligible_identities_are_never_held_out():
    # images=(1,): one image per camera, no identity can give a query with
    # a match while keeping a gallery image in another camera.
    with pytest.raises(ValueError, match='only 0 of the 12'):
        GridReID(images=(1, ), split='holdout', num_holdout_ids=1)
    # Identities with 2 images per camera are eligible, 1 are not.
    dataset = GridReID(images=(2, 1), cams=(2, ), split='train')
    samples = [dataset.get_data_info(i) for i in range(len(dataset))]
    for seed in range(5):
        chosen = select_holdout_ids(samples, 3, seed)
        assert all(pid % 2 == 0 for pid in chosen)


def test_deterministic_and_seeded():
    a = GridReID(split='holdout', num_holdout_ids=4, holdout_seed=0)
    b = GridReID(split='holdout', num_holdout_ids=4, holdout_seed=0)
    paths = [a.get_data_info(i)['img_path'] for i in range(len(a))]
    assert paths == [b.get_data_info(i)['img_path'] for i in range(len(b))]
    others = {
        frozenset(
            GridReID(split='holdout', num_holdout_ids=4,
                     holdout_seed=s).get_pids()) for s in range(1, 4)
    }
    assert len(others) > 1


def test_option_errors_and_test_splits_unchanged():
    with pytest.raises(ValueError, match='needs num_holdout_ids > 0'):
        GridReID(split='holdout')
    with pytest.raises(ValueError, match='non-negative int'):
        GridReID(split='train', num_holdout_ids=-1)
    with pytest.raises(ValueError, match='every one of the'):
        GridReID(num_ids=2, images=(2, ), split='train', num_holdout_ids=2)
    test = GridReID(split='test', num_holdout_ids=4)
    assert list(test.get_pids()) == [999, 999] or len(test) == 1
    assert 'num_holdout_ids' not in test.metainfo


def test_on_the_synthetic_set(tiny_synthetic_root):
    train = SyntheticReID(
        data_root=str(tiny_synthetic_root), num_holdout_ids=4)
    held = SyntheticReID(
        data_root=str(tiny_synthetic_root), split='holdout',
        num_holdout_ids=4)
    test = SyntheticReID(
        data_root=str(tiny_synthetic_root), split='test', num_holdout_ids=4)
    full = SyntheticReID(data_root=str(tiny_synthetic_root))
    assert train.num_ids == full.num_ids - 4 and held.num_ids == 4
    assert not set(held.get_pids()) & set(train.get_pids())
    assert len(train) + len(held) == len(full)
    assert 4 <= held.get_is_query().sum() <= 4 * full.num_cams
    # The test split is the dataset's own, untouched.
    assert len(test) == len(SyntheticReID(
        data_root=str(tiny_synthetic_root), split='test'))
