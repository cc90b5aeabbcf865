"""Degenerate pseudo labels through the real ClusterRefreshHook, identity
sampler and model: the run continues under the documented policy, warns,
and the diagnostics show it.

A stub labeler registered here returns constructed labels, one scenario
per refresh.
"""
import csv
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.hooks import Hook

from mmreid_unsup.engine import build_runner
from mmreid_unsup.engine.hooks import ClusterRefreshHook
from mmreid_unsup.pseudo_labels import BaseLabeler
from mmreid_unsup.registry import PSEUDO_LABELERS
from tiny_cluster_contrast import tiny_cfg
from tiny_scl import tiny_scl_cfg


def _scenario(name: str, num: int) -> np.ndarray:
    """Constructed labels for ``num`` samples."""
    if name == 'clusters':  # groups of 4 consecutive samples
        return np.arange(num) // 4
    if name == 'all_outliers':
        return np.full(num, -1)
    if name == 'giant':  # 90% in one cluster, two pairs, outliers
        labels = np.full(num, -1)
        labels[:int(0.9 * num)] = 0
        labels[-4:] = [1, 1, 2, 2]
        return labels
    raise ValueError(name)


@PSEUDO_LABELERS.register_module(force=True)
class ScriptedLabeler(BaseLabeler):
    """Returns the scenarios of ``script`` in turn (the last one repeats)."""

    def __init__(self, script, **kwargs):
        super().__init__(**kwargs)
        self.script = list(script)
        self.calls = 0

    def label(self, features, camids):
        name = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        return _scenario(name, features.shape[0])


class _Probe(Hook):
    """Records labels and batches of every epoch."""

    priority = 'LOWEST'

    def __init__(self):
        self.labels = {}
        self.batches = {}

    def before_train_epoch(self, runner):
        self.labels[runner.epoch] = runner.model.pseudo_labels.clone()

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.batches.setdefault(runner.epoch, []).append(
            [int(s.sample_idx) for s in data_batch['data_samples']])


def _train(root, work_dir, script, epochs=1, **overrides):
    cfg = tiny_cfg(
        root,
        work_dir,
        train_cfg=dict(max_epochs=epochs),
        experiment_name=f'degenerate_{work_dir.name}')
    cfg.merge_from_dict(
        dict(train_dataloader=dict(sampler=dict(iters_per_epoch=2))))
    cfg.merge_from_dict(overrides)
    cfg.custom_hooks[0]['labeler'] = dict(type='ScriptedLabeler',
                                          script=script)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    runner = build_runner(cfg)
    probe = _Probe()
    runner.register_hook(probe)
    runner.train()
    log = next(Path(runner.log_dir).glob('*.log')).read_text()
    return runner, probe, log


def _scalar(runner, name):
    return runner.message_hub.get_scalar(f'train/pseudo_{name}').current()


def _blocks(batch, k=2):
    return [batch[i:i + k] for i in range(0, len(batch), k)]


def test_all_outliers_without_previous_labels_make_instance_classes(
        tiny_synthetic_root, tmp_path):
    runner, probe, log = _train(tiny_synthetic_root, tmp_path,
                                ['all_outliers'])
    num = len(runner.train_dataloader.dataset)
    assert torch.equal(probe.labels[0], torch.arange(num))
    assert runner.model.head.memory.bank.shape[0] == num
    # Each P x K batch: single images, each repeated K times.
    for batch in probe.batches[0]:
        assert len(batch) == 8
        for block in _blocks(batch):
            assert len(set(block)) == 1
    assert ('no pseudo identity has two or more samples '
            f'({num} outliers and 0 single-sample clusters') in log
    assert 'policy (no previous labels to keep): every sample becomes ' \
        'its own class' in log
    assert 'CameraAwareIdentitySampler: no pseudo identity has two or ' \
        'more images' in log
    assert _scalar(runner, 'instance_labels') == 1
    assert _scalar(runner, 'kept_previous_labels') == 0
    assert _scalar(runner, 'num_trainable_clusters') == 0


@pytest.mark.slow
def test_all_outliers_after_good_labels_keep_the_previous_ones(
        tiny_synthetic_root, tmp_path):
    runner, probe, log = _train(
        tiny_synthetic_root, tmp_path, ['clusters', 'all_outliers'],
        epochs=2)
    assert torch.equal(probe.labels[1], probe.labels[0])
    assert int(probe.labels[0].max()) + 1 == \
        runner.model.head.memory.bank.shape[0]
    sampler = runner.train_dataloader.sampler
    assert np.array_equal(sampler.labels, probe.labels[0].numpy())
    assert 'ClusterRefreshHook epoch 1: no pseudo identity has two or ' \
        'more samples' in log
    assert 'policy: keeping the previous pseudo labels' in log
    assert _scalar(runner, 'kept_previous_labels') == 1
    history = runner.message_hub.get_scalar(
        'train/pseudo_kept_previous_labels').data[0]
    assert list(history) == [0, 1]


def test_giant_cluster_and_fewer_clusters_than_p_keep_batches_full(
        tiny_synthetic_root, tmp_path):
    runner, probe, log = _train(tiny_synthetic_root, tmp_path, ['giant'])
    labels = probe.labels[0]
    num = labels.numel()
    assert _scalar(runner, 'largest_cluster_fraction') == pytest.approx(
        int(0.9 * num) / num)
    assert _scalar(runner, 'num_trainable_clusters') == 3
    pct = f'{int(0.9 * num) / num:.1%}'
    assert f'one pseudo identity holds {pct} of the {num} samples' in log
    assert 'policy: training continues with these labels' in log
    # P = 8 // 2 = 4 identities per batch, 3 trainable: still full
    # batches of K=2 images of one identity each, identities repeating.
    assert '3 trainable pseudo identities (two or more images) for 4 ' \
        'identities per batch' in log
    repeated = False
    for batch in probe.batches[0]:
        assert len(batch) == 8
        ids = [int(labels[block[0]]) for block in _blocks(batch)]
        for block, pid in zip(_blocks(batch), ids):
            assert {int(labels[i]) for i in block} == {pid} and pid >= 0
        repeated |= len(set(ids)) < len(ids)
    assert repeated


@pytest.fixture
def single_camera_ann(tiny_synthetic_root, tmp_path) -> Path:
    """The tiny training set annotated as if one camera took every image."""
    path = tmp_path / 'one_camera.csv'
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['filename', 'pid', 'camid'])
        for image in sorted(
                (tiny_synthetic_root / 'bounding_box_train').glob('*.jpg')):
            writer.writerow([f'bounding_box_train/{image.name}',
                             int(image.name[:4]), 0])
    return path


def _one_camera_sets(cfg, data_root, ann_file) -> dict:
    """Overrides giving ``cfg``'s training loaders the one-camera set."""
    dataset = dict(
        type='ReIDAnnotationDataset',
        data_root=str(data_root),
        ann_file=str(ann_file),
        _delete_=True)  # replace the SyntheticReID dicts entirely
    return {
        key: dict(dataset=dict(dataset, pipeline=cfg[key].dataset.pipeline))
        for key in ('train_dataloader', 'cluster_dataloader')
    }


def test_single_camera_falls_back_to_same_camera_partners(
        tiny_synthetic_root, tmp_path, single_camera_ann):
    overrides = _one_camera_sets(
        tiny_cfg(tiny_synthetic_root, tmp_path), tiny_synthetic_root,
        single_camera_ann)
    runner, probe, log = _train(tiny_synthetic_root, tmp_path, ['clusters'],
                                **overrides)
    assert set(runner.train_dataloader.dataset.get_camids()) == {0}
    assert 'camera_aware=True but every training image comes from camera ' \
        "0; policy: partners are drawn from the anchor's own camera" in log
    assert _scalar(runner, 'num_cameras') == 1
    labels = probe.labels[0]
    for batch in probe.batches[0]:
        assert len(batch) == 8
        for block in _blocks(batch):
            assert len({int(labels[i]) for i in block}) == 1


@pytest.mark.slow
def test_single_camera_makes_scl_camera_term_a_no_op_with_a_warning(
        tiny_synthetic_root, tmp_path, single_camera_ann):
    cfg = tiny_scl_cfg(
        tiny_synthetic_root,
        tmp_path,
        train_cfg=dict(max_epochs=2),
        experiment_name=f'degenerate_scl_{tmp_path.name}')
    cfg.merge_from_dict(
        _one_camera_sets(cfg, tiny_synthetic_root, single_camera_ann))
    cfg.merge_from_dict(
        dict(train_dataloader=dict(sampler=dict(iters_per_epoch=2))))
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    runner = build_runner(cfg)
    runner.train()
    log = next(Path(runner.log_dir).glob('*.log')).read_text()
    assert 'InstanceMemoryHook: every training image comes from camera 0; ' \
        'policy: camera terms fall back to no effect' in log
    assert runner.model.head.camids.unique().tolist() == [0]
    assert runner.message_hub.get_scalar(
        'train/pos_cross_camera').current() == 0


def test_error_policy_and_bad_arguments_are_clear():
    labeler = dict(type='ScriptedLabeler', script=['all_outliers'])
    with pytest.raises(ValueError, match="ClusterRefreshHook: on_no_clusters "
                       "must be one of .* got 'skip'"):
        ClusterRefreshHook(labeler, on_no_clusters='skip')
    with pytest.raises(ValueError, match='giant_cluster_fraction must be in'):
        ClusterRefreshHook(labeler, giant_cluster_fraction=0)


def test_error_policy_stops_the_refresh_with_the_cause(
        tiny_synthetic_root, tmp_path):
    cfg = tiny_cfg(tiny_synthetic_root, tmp_path,
                   experiment_name=f'degenerate_err_{tmp_path.name}')
    cfg.custom_hooks[0]['on_no_clusters'] = 'error'
    cfg.custom_hooks[0]['labeler'] = dict(
        type='ScriptedLabeler', script=['all_outliers'])
    with pytest.raises(RuntimeError, match=r"no pseudo identity has two or "
                       r"more samples .*; on_no_clusters='error' stops the "
                       'run. Loosen the labeler'):
        build_runner(cfg).train()
