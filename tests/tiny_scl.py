"""Helpers for tests that train the tiny SCL recipe
(``tests/data/configs/tiny_synthetic_scl.py``) on a tiny synthetic set."""
import textwrap
from pathlib import Path

from mmengine.config import Config

from tiny_cluster_contrast import REPO_ROOT

TINY_SCL_CONFIG = (REPO_ROOT / 'tests' / 'data' / 'configs' /
                   'tiny_synthetic_scl.py')
LOADERS = ('train_dataloader', 'cluster_dataloader', 'val_dataloader',
           'test_dataloader')


def tiny_scl_cfg(data_root: Path, work_dir: Path, **overrides) -> Config:
    """The tiny SCL recipe reading ``data_root``, ready for ``Runner``.

    Args:
        data_root (Path): A synthetic set (``tiny_synthetic_root``).
        work_dir (Path): Where logs and checkpoints go.
        **overrides: Merged into the config (``Config.merge_from_dict``).

    Returns:
        Config: The config.
    """
    cfg = Config.fromfile(str(TINY_SCL_CONFIG))
    for key in LOADERS:
        cfg[key].dataset.data_root = str(data_root)
    cfg.work_dir = str(work_dir)
    cfg.merge_from_dict(overrides)
    return cfg


def write_tiny_scl_config(data_root: Path,
                          path: Path,
                          extra: str = '') -> Path:
    """A config file: the tiny SCL recipe reading ``data_root``.

    Args:
        data_root (Path): A synthetic set.
        path (Path): The file to write.
        extra (str): More config lines.

    Returns:
        Path: ``path``.
    """
    lines = [f"_base_ = ['{TINY_SCL_CONFIG}']", f"data_root = '{data_root}'"]
    lines += [f'{key} = dict(dataset=dict(data_root=data_root))'
              for key in LOADERS]
    path.write_text('\n'.join(lines) + '\n' + textwrap.dedent(extra))
    return path
