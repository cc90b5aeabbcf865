"""Helpers for tests that train the tiny PPSSL recipe
(``tests/data/configs/tiny_synthetic_ppssl.py``) on a tiny synthetic set."""
from pathlib import Path

from mmengine.config import Config

from tiny_configs import (TINY_CONFIGS, tiny_method_cfg,
                          write_tiny_method_config)

TINY_PPSSL_CONFIG = TINY_CONFIGS / 'tiny_synthetic_ppssl.py'


def tiny_ppssl_cfg(data_root: Path, work_dir: Path, **overrides) -> Config:
    """The tiny PPSSL recipe, see :func:`tiny_configs.tiny_method_cfg`."""
    return tiny_method_cfg(TINY_PPSSL_CONFIG, data_root, work_dir,
                           **overrides)


def write_tiny_ppssl_config(data_root: Path,
                            path: Path,
                            extra: str = '') -> Path:
    """The tiny PPSSL recipe as a file, see
    :func:`tiny_configs.write_tiny_method_config`."""
    return write_tiny_method_config(TINY_PPSSL_CONFIG, data_root, path,
                                    extra)
