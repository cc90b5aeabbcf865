from collections import Counter

import numpy as np
import pytest

from mmreid_unsup.datasets.samplers import CameraAwareIdentitySampler


def _make(labels, camids=None, world=(0, 1), **kwargs):
    dataset = list(range(len(labels)))
    cfg = dict(batch_size=8, num_instances=4, iters_per_epoch=5, seed=3)
    cfg.update(kwargs)
    sampler = CameraAwareIdentitySampler(dataset, **cfg)
    sampler.rank, sampler.world_size = world
    sampler.set_labels(labels, camids)
    return sampler


def _batches(sampler):
    indices = list(sampler)
    size = sampler.batch_size
    return [indices[i:i + size] for i in range(0, len(indices), size)]


def test_batch_composition_p_by_k():
    # 6 identities of 5 images each, 2 outliers at the end.
    labels = np.repeat(np.arange(6), 5).tolist() + [-1, -1]
    sampler = _make(labels)
    batches = _batches(sampler)
    assert len(batches) == 5
    for batch in batches:
        assert len(batch) == 8
        counts = Counter(labels[i] for i in batch)
        assert -1 not in counts
        assert sorted(counts.values()) == [4, 4]


def test_fixed_epoch_length_whatever_the_number_of_clusters():
    few = _make([0, 0, 1, 1], iters_per_epoch=7)
    many = _make(np.repeat(np.arange(50), 4).tolist(), iters_per_epoch=7)
    assert len(few) == len(many) == 7 * 8
    assert len(list(few)) == len(list(many)) == 7 * 8


def test_partners_come_from_other_cameras_when_possible():
    # Identity 0: 1 image in camera 0, 4 in camera 1; identity 1 likewise.
    labels = [0] * 5 + [1] * 5
    camids = [0, 1, 1, 1, 1] * 2
    sampler = _make(labels, camids, iters_per_epoch=20)
    for batch in _batches(sampler):
        for start in range(0, 8, 4):
            group = batch[start:start + 4]
            anchor_cam = camids[group[0]]
            partner_cams = {camids[i] for i in group[1:]}
            if anchor_cam == 0:
                # The only other-camera images are in camera 1.
                assert partner_cams == {1}
            else:
                # Camera 0 holds one image: drawn with replacement.
                assert partner_cams == {0}


def test_camera_mixing_off_uses_same_identity_only():
    labels = [0] * 5 + [1] * 5
    camids = [0, 1, 1, 1, 1] * 2
    sampler = _make(labels, camids, camera_aware=False, iters_per_epoch=20)
    saw_same_cam_partner = False
    for batch in _batches(sampler):
        for start in range(0, 8, 4):
            group = batch[start:start + 4]
            assert len({labels[i] for i in group}) == 1
            saw_same_cam_partner |= any(
                camids[i] == camids[group[0]] for i in group[1:])
    assert saw_same_cam_partner


def test_singletons_and_outliers_are_never_drawn():
    labels = [0, 0, 0, 1, 2, -1, -1]  # ids 1 and 2 have one image each
    sampler = _make(labels, batch_size=4, num_instances=2)
    drawn = set(sampler)
    assert drawn <= {0, 1, 2}


def test_ranks_get_different_batches_and_together_the_global_list():
    labels = np.repeat(np.arange(10), 4).tolist()
    global_batches = _make(
        labels, world=(0, 2), iters_per_epoch=6)._global_batches()
    assert len(global_batches) == 12
    rank0 = _batches(_make(labels, world=(0, 2), iters_per_epoch=6))
    rank1 = _batches(_make(labels, world=(1, 2), iters_per_epoch=6))
    assert rank0 == global_batches[0::2]
    assert rank1 == global_batches[1::2]
    assert rank0 != rank1


def test_epochs_differ_and_are_reproducible():
    labels = np.repeat(np.arange(10), 4).tolist()
    sampler = _make(labels)
    first = list(sampler)
    assert list(sampler) == first
    sampler.set_epoch(1)
    assert list(sampler) != first


def test_errors_are_clear():
    with pytest.raises(ValueError, match='multiple of num_instances'):
        CameraAwareIdentitySampler([0] * 8, batch_size=6, num_instances=4)
    sampler = CameraAwareIdentitySampler([0] * 4, batch_size=4,
                                         num_instances=2, seed=0)
    with pytest.raises(RuntimeError, match='ClusterRefreshHook'):
        list(sampler)
    with pytest.raises(ValueError, match='dataset of 4 samples'):
        sampler.set_labels([0, 0, 1, 1, 2])
    sampler.set_labels([-1, -1, -1, -1])
    with pytest.raises(RuntimeError, match='every sample is an outlier'):
        list(sampler)


def test_only_single_image_identities_repeat_each_image_k_times():
    labels = [0, 1, 2, -1, 3, 4]  # no identity with two images
    sampler = _make(labels)
    for batch in _batches(sampler):
        assert len(batch) == 8
        blocks = [batch[i:i + 4] for i in range(0, 8, 4)]
        for block in blocks:
            assert len(set(block)) == 1 and labels[block[0]] >= 0
    assert 'no pseudo identity has two or more images (5 single-image ' \
        'identities, 1 outliers); policy: each batch draws 2 single ' \
        'images and repeats each 4 times' in sampler.label_warnings[0]


def test_fewer_identities_than_p_still_fill_every_batch():
    labels = [0, 0, 0, 1, 1, -1]  # 2 trainable identities, P = 4
    sampler = _make(labels, batch_size=8, num_instances=2)
    repeated = False
    for batch in _batches(sampler):
        assert len(batch) == 8
        ids = [labels[batch[i]] for i in range(0, 8, 2)]
        for i in range(0, 8, 2):
            assert labels[batch[i]] == labels[batch[i + 1]] >= 0
        repeated |= len(set(ids)) < len(ids)
    assert repeated
    assert sampler.label_warnings == [
        'CameraAwareIdentitySampler: 2 trainable pseudo identities (two or '
        'more images) for 4 identities per batch; policy: batches stay '
        'full, identities repeat within a batch, each time with its own '
        'anchor and partners'
    ]


def test_single_camera_warns_and_draws_same_camera_partners():
    labels = np.repeat(np.arange(4), 4)
    sampler = _make(labels, camids=[2] * 16)
    assert len(list(sampler)) == 5 * 8
    assert sampler.label_warnings == [
        'CameraAwareIdentitySampler: camera_aware=True but every training '
        "image comes from camera 2; policy: partners are drawn from the "
        "anchor's own camera"
    ]
    assert _make(labels, camids=[2] * 16, camera_aware=False) \
        .label_warnings == []
    assert _make(labels, camids=[0, 1] * 8).label_warnings == []
