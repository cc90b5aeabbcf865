"""Load or write a tiny method recipe (``tests/data/configs/tiny_*.py``)
pointed at a tiny synthetic set, for tests of any method."""
import textwrap
import time
from pathlib import Path

from mmengine.config import Config

from tiny_cluster_contrast import REPO_ROOT

TINY_CONFIGS = REPO_ROOT / 'tests' / 'data' / 'configs'
LOADERS = ('train_dataloader', 'cluster_dataloader', 'val_dataloader',
           'test_dataloader')


def tiny_method_cfg(config: Path, data_root: Path, work_dir: Path,
                    **overrides) -> Config:
    """A tiny recipe reading ``data_root``, ready for ``Runner``.

    Args:
        config (Path): The recipe file.
        data_root (Path): A synthetic set (``tiny_synthetic_root``).
        work_dir (Path): Where logs and checkpoints go.
        **overrides: Merged into the config (``Config.merge_from_dict``).

    Returns:
        Config: The config, with an experiment name of its own (unless
        ``overrides`` give one).
    """
    cfg = Config.fromfile(str(config))
    for key in LOADERS:
        cfg[key].dataset.data_root = str(data_root)
    cfg.work_dir = str(work_dir)
    # MMEngine names a run's logger and visualizer after the config and the
    # second it starts, and reuses those of an earlier run with that name:
    # two tiny runs started in one second would share a log file (the
    # second run's log folder then has none).
    cfg.experiment_name = f'tiny_{time.time_ns()}'
    cfg.merge_from_dict(overrides)
    return cfg


def write_tiny_method_config(config: Path,
                             data_root: Path,
                             path: Path,
                             extra: str = '') -> Path:
    """A config file: a tiny recipe reading ``data_root``.

    Args:
        config (Path): The recipe file it inherits.
        data_root (Path): A synthetic set.
        path (Path): The file to write.
        extra (str): More config lines.

    Returns:
        Path: ``path``.
    """
    lines = [f"_base_ = ['{config}']", f"data_root = '{data_root}'"]
    lines += [f'{key} = dict(dataset=dict(data_root=data_root))'
              for key in LOADERS]
    path.write_text('\n'.join(lines) + '\n' + textwrap.dedent(extra))
    return path
