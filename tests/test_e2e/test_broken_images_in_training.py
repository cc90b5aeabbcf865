"""Images that break in the middle of an epoch: a real Cluster-Contrast run
(tiny recipe) skips and logs them. (The bound, ``max_broken_images``, is
tested through a DataLoader in
``tests/test_datasets/test_base_reid_dataset_bad_data.py``.)"""
import shutil
from pathlib import Path

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmreid_unsup.engine import build_runner
from mmreid_unsup.registry import HOOKS
from tiny_cluster_contrast import tiny_cfg

pytestmark = pytest.mark.e2e


@HOOKS.register_module(force=True)
class DeleteTrainImagesHook(Hook):
    """After the first iteration (the pseudo labels exist by then), delete
    every ``step``-th training image, as a failing disk would."""

    def __init__(self, step: int = 2) -> None:
        self.step = step
        self.deleted = []

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if runner.iter != 0:
            return
        dataset = runner.train_dataloader.dataset
        for idx in range(0, len(dataset), self.step):
            path = dataset.get_data_info(idx)['img_path']
            Path(path).unlink()
            self.deleted.append(idx)


def _runner(data_root: Path, work_dir: Path, **dataset_kwargs) -> Runner:
    cfg = tiny_cfg(data_root, work_dir)
    cfg.train_cfg = dict(by_epoch=True, max_epochs=1, val_interval=10)
    cfg.train_dataloader.dataset.update(dataset_kwargs)
    cfg.custom_hooks.append(dict(type='DeleteTrainImagesHook'))
    return build_runner(cfg)


@pytest.fixture
def data_root(tiny_synthetic_root, tmp_path) -> Path:
    """A copy of the tiny set, since the test deletes images."""
    return Path(shutil.copytree(tiny_synthetic_root, tmp_path / 'data'))


def _hook(runner: Runner) -> DeleteTrainImagesHook:
    return next(h for h in runner.hooks
                if isinstance(h, DeleteTrainImagesHook))


def test_training_skips_images_deleted_mid_epoch(data_root, tmp_path):
    runner = _runner(data_root, tmp_path / 'work', max_broken_images=1000)
    runner.train()
    model = runner.model
    dataset = runner.train_dataloader.dataset

    assert runner.iter == 4  # every iteration of the epoch ran
    assert len(_hook(runner).deleted) == (len(dataset) + 1) // 2
    # Labels and memory keep the dataset's size and stay finite.
    assert model.pseudo_labels.shape == (len(dataset), )
    for memory in model.memories():
        assert torch.isfinite(memory.bank).all()
    log = next((tmp_path / 'work').glob('*/*.log')).read_text()
    skipped = [line for line in log.splitlines() if 'skipped: another' in line]
    assert skipped, 'no broken image was logged'
    for line in skipped:
        idx = int(line.split('cannot load sample ')[1].split(',')[0])
        assert idx in _hook(runner).deleted
        assert dataset.get_data_info(idx)['img_path'] in line

