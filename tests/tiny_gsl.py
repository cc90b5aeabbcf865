"""Helpers for tests that train the tiny GSL recipe
(``tests/data/configs/tiny_synthetic_gsl.py``) on a tiny synthetic set."""
from pathlib import Path

from mmengine.config import Config

from tiny_configs import TINY_CONFIGS, tiny_method_cfg

TINY_GSL_CONFIG = TINY_CONFIGS / 'tiny_synthetic_gsl.py'


def tiny_gsl_cfg(data_root: Path, work_dir: Path, **overrides) -> Config:
    """The tiny GSL recipe, see :func:`tiny_configs.tiny_method_cfg`."""
    return tiny_method_cfg(TINY_GSL_CONFIG, data_root, work_dir, **overrides)
