"""Training-set fingerprints: stable under a move, changed by any edit."""
import shutil

from mmreid_unsup.datasets import (Market1501, dataset_fingerprint,
                                   describe_change)


def _fingerprint(root):
    return dataset_fingerprint(Market1501(data_root=str(root), split='train'))


def test_same_list_same_fingerprint_wherever_the_root_is(market_root,
                                                         tmp_path):
    first = _fingerprint(market_root)
    assert first['num_samples'] == 4 and len(first['sha1']) == 40
    moved = tmp_path / 'elsewhere' / 'market'
    shutil.copytree(market_root, moved)
    assert _fingerprint(moved) == first
    assert describe_change(first, _fingerprint(moved)) is None


def test_a_removed_image_changes_the_count(market_root):
    before = _fingerprint(market_root)
    (market_root / 'bounding_box_train' / '0002_c1s1_000451_03.jpg').unlink()
    after = _fingerprint(market_root)
    assert after['num_samples'] == 3
    message = describe_change(before, after)
    assert 'trained on 4 images' in message and 'now has 3' in message


def test_a_swapped_image_changes_the_hash_not_the_count(market_root):
    before = _fingerprint(market_root)
    folder = market_root / 'bounding_box_train'
    (folder / '0002_c1s1_000451_03.jpg').rename(
        folder / '0002_c1s1_000452_03.jpg')
    after = _fingerprint(market_root)
    assert after['num_samples'] == before['num_samples']
    assert after['sha1'] != before['sha1']
    message = describe_change(before, after)
    assert 'same number of images (4)' in message
    assert before['sha1'][:12] in message and after['sha1'][:12] in message


def test_older_or_partial_records():
    current = dict(num_samples=10, sha1='a' * 40)
    assert describe_change(None, current) is None
    assert describe_change({}, current) is None
    # Checkpoints from before the hash: the count alone is compared.
    assert describe_change(dict(num_samples=10), current) is None
    assert '9 images' in describe_change(dict(num_samples=9), current)
    assert describe_change(dict(num_samples=10, sha1=None), current) is None


def test_datasets_without_a_sample_list_give_only_their_size():

    class Sized:

        def __len__(self):
            return 7

    assert dataset_fingerprint(Sized()) == dict(num_samples=7, sha1=None)
