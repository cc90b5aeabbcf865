from typing import Dict, List

import numpy as np
import pytest

from mmreid_unsup.datasets import BaseReIDDataset


class ToyReID(BaseReIDDataset):
    """A dataset whose splits are given as lists of (name, pid, camid)."""

    METAINFO = dict(dataset_name='ToyReID')

    def __init__(self, parts: Dict[str, list], **kwargs):
        self.parts = parts
        kwargs.setdefault('image_check', 'none')  # the files do not exist
        super().__init__(data_root='/toy', **kwargs)

    def describe_split(self, split: str) -> str:
        return f'/toy/{split}/*.jpg'

    def load_split(self, split: str) -> List[dict]:
        return [
            dict(img_path=f'/toy/{split}/{name}', pid=pid, camid=camid)
            for name, pid, camid in self.parts.get(split, [])
        ]


PARTS = dict(
    train=[('a.jpg', 5, 0), ('b.jpg', 5, 1), ('junk.jpg', -1, 0),
           ('c.jpg', 9, 2)],
    query=[('q1.jpg', 1, 0), ('q2.jpg', 2, 1)],
    gallery=[('g1.jpg', 1, 1), ('g2.jpg', 2, 0), ('g0.jpg', 0, 3)])


def test_train_split_drops_junk_and_sets_fields():
    ds = ToyReID(PARTS, split='train')
    assert len(ds) == 3
    info = ds.get_data_info(2)
    assert info == dict(
        img_path='/toy/train/c.jpg',
        pid=9,
        camid=2,
        is_query=False,
        sample_idx=2)
    np.testing.assert_array_equal(ds.get_pids(), [5, 5, 9])
    np.testing.assert_array_equal(ds.get_camids(), [0, 1, 2])
    assert ds.get_pids().dtype == np.int64
    assert not ds.get_is_query().any()
    assert ds.num_ids == 2
    assert ds.num_cams == 3


def test_test_split_is_query_then_gallery():
    ds = ToyReID(PARTS, split='test')
    paths = [ds.get_data_info(i)['img_path'] for i in range(len(ds))]
    assert [p.split('/')[-1] for p in paths] == [
        'q1.jpg', 'q2.jpg', 'g1.jpg', 'g2.jpg', 'g0.jpg'
    ]
    np.testing.assert_array_equal(ds.get_is_query(),
                                  [True, True, False, False, False])
    # the distractor pid 0 is kept and counts as an identity
    assert ds.num_ids == 3
    assert ds.num_cams == 4


@pytest.mark.parametrize('split,size', [('query', 2), ('gallery', 3)])
def test_single_evaluation_parts(split, size):
    ds = ToyReID(PARTS, split=split)
    assert len(ds) == size
    assert ds.get_is_query().all() == (split == 'query')


def test_metainfo_names_dataset_and_split():
    ds = ToyReID(PARTS, split='query')
    assert ds.metainfo == dict(dataset_name='ToyReID', split='query')
    assert ds.dataset_name == 'ToyReID'


def test_unknown_split():
    with pytest.raises(ValueError, match="split must be one of.*'val'"):
        ToyReID(PARTS, split='val')


def test_empty_split_names_expected_layout():
    parts = dict(PARTS, train=[('junk.jpg', -1, 0)])
    with pytest.raises(ValueError, match=r"'train' split is empty.*"
                       r'/toy/train/\*\.jpg'):
        ToyReID(parts, split='train')


def test_negative_camid_rejected():
    parts = dict(PARTS, train=[('a.jpg', 1, -1)])
    with pytest.raises(ValueError,
                       match='/toy/train/a.jpg: negative camid -1'):
        ToyReID(parts, split='train')


def test_image_in_query_and_gallery_rejected():
    class Shared(ToyReID):

        def load_split(self, split):
            return [dict(img_path='/toy/same.jpg', pid=1, camid=0)]

    with pytest.raises(ValueError,
                       match='same.jpg: occurs more than once in split'):
        Shared(PARTS, split='test')


def test_lazy_init_and_unserialized_agree():
    lazy = ToyReID(PARTS, split='test', lazy_init=True)
    plain = ToyReID(PARTS, split='test', serialize_data=False)
    np.testing.assert_array_equal(lazy.get_pids(), plain.get_pids())
    np.testing.assert_array_equal(lazy.get_camids(), plain.get_camids())


def test_helpers_follow_subsets():
    ds = ToyReID(PARTS, split='test')
    sub = ds.get_subset([4, 0])
    np.testing.assert_array_equal(sub.get_pids(), [0, 1])
    ds.get_subset_([1])
    np.testing.assert_array_equal(ds.get_camids(), [1])
