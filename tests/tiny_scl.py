"""Helpers for tests that train the tiny SCL recipe
(``tests/data/configs/tiny_synthetic_scl.py``) on a tiny synthetic set."""
from pathlib import Path

from mmengine.config import Config

from tiny_configs import (TINY_CONFIGS, tiny_method_cfg,
                          write_tiny_method_config)

TINY_SCL_CONFIG = TINY_CONFIGS / 'tiny_synthetic_scl.py'


def tiny_scl_cfg(data_root: Path, work_dir: Path, **overrides) -> Config:
    """The tiny SCL recipe, see :func:`tiny_configs.tiny_method_cfg`."""
    return tiny_method_cfg(TINY_SCL_CONFIG, data_root, work_dir, **overrides)


def write_tiny_scl_config(data_root: Path,
                          path: Path,
                          extra: str = '') -> Path:
    """The tiny SCL recipe as a file, see
    :func:`tiny_configs.write_tiny_method_config`."""
    return write_tiny_method_config(TINY_SCL_CONFIG, data_root, path, extra)
