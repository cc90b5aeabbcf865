"""Helpers for tests that need a config file and a checkpoint of the tiny
model (OSNet-x0.25 at 32x16, or ResNet-18, random initialisation, nothing
downloaded)."""
import textwrap
from pathlib import Path

import torch

from tiny_cluster_contrast import TINY_CONFIG


def write_tiny_config(data_root: Path,
                      path: Path,
                      extra: str = '',
                      base: Path = TINY_CONFIG) -> Path:
    """A config file: the tiny synthetic recipe reading ``data_root``.

    Args:
        data_root (Path): a synthetic set (``tiny_synthetic_root``).
        path (Path): the file to write.
        extra (str): more config lines.
        base (Path): the tiny config it inherits: ``TINY_CONFIG``
            (OSNet-x0.25) or ``TINY_R18_CONFIG`` (ResNet-18).

    Returns:
        Path: ``path``.
    """
    path.write_text(
        textwrap.dedent(f'''
        _base_ = ['{base}']
        data_root = '{data_root}'
        train_dataloader = dict(dataset=dict(data_root=data_root))
        cluster_dataloader = dict(dataset=dict(data_root=data_root))
        val_dataloader = dict(dataset=dict(data_root=data_root))
        test_dataloader = dict(dataset=dict(data_root=data_root))
        ''') + textwrap.dedent(extra))
    return path


def save_untrained_checkpoint(config: Path, path: Path, seed: int = 0) -> Path:
    """Save the randomly initialised model of ``config`` as a checkpoint.

    Args:
        config (Path): a config file.
        path (Path): the checkpoint to write.
        seed (int): seed of the initialisation.

    Returns:
        Path: ``path``.
    """
    from mmreid_unsup.apis import init_model
    torch.manual_seed(seed)
    model = init_model(str(config))
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return path
