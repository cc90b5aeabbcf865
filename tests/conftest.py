"""Shared fixtures: a tiny synthetic dataset and a tiny training config."""
import os
from pathlib import Path

import pytest
from mmengine.config import Config

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """``../shared`` beside the repository (``MMREID_SHARED_DIR`` overrides)."""
    return Path(os.environ.get('MMREID_SHARED_DIR', REPO_ROOT.parent / 'shared'))


@pytest.fixture(scope='session')
def tiny_synthetic_root(tmp_path_factory) -> Path:
    """A small synthetic multi-camera set in Market-1501 layout."""
    from mmreid_unsup.datasets.synthetic import generate_synthetic_reid
    root = tmp_path_factory.mktemp('synthetic')
    generate_synthetic_reid(
        str(root),
        num_train_ids=16,
        num_test_ids=8,
        num_cams=3,
        images_per_id_per_cam=3,
        seed=0,
        img_size=(64, 32))
    return root


def tiny_cfg(data_root: Path, work_dir: Path, **overrides) -> Config:
    """The demo recipe shrunk to seconds: 32x16 input, few iterations.

    Args:
        data_root (Path): A synthetic set from ``tiny_synthetic_root``.
        work_dir (Path): Where logs and checkpoints go.
        **overrides: Merged into the config (``Config.merge_from_dict``).

    Returns:
        Config: A config ready for ``Runner.from_cfg``.
    """
    cfg = Config.fromfile(
        str(REPO_ROOT / 'tests' / 'data' / 'configs' / 'tiny_synthetic.py'))
    for key in ('train_dataloader', 'cluster_dataloader', 'val_dataloader',
                'test_dataloader'):
        cfg[key].dataset.data_root = str(data_root)
    cfg.work_dir = str(work_dir)
    cfg.merge_from_dict(overrides)
    return cfg
