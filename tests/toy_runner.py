"""A toy model and dataset trained by a real MMEngine ``Runner`` in about a
second, for tests of loops and hooks that need no re-ID model.

A plain module (not ``conftest``): subprocesses of a test import it too
(with ``tests/`` on ``PYTHONPATH``).
"""
import time
from pathlib import Path
from typing import Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from torch.utils.data import Dataset

from mmreid_unsup.engine import ReIDRunner


class ToyModel(BaseModel):
    """A linear layer whose loss is the mean square of its output.

    Args:
        dim (int): Input and output size. Defaults to 256.
        init_cfg (dict, optional): MMEngine's initialisation config.
    """

    def __init__(self,
                 dim: int = 256,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.linear = nn.Linear(dim, dim)

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        out = self.linear(torch.stack(inputs))
        return dict(loss=out.pow(2).mean()) if mode == 'loss' else out


class ToySet(Dataset):
    """Sample ``i`` is a vector filled with ``i``; ``data_samples`` is ``i``.
    ``loads`` counts the samples loaded (in this process).
    """

    def __init__(self, size: int = 8, dim: int = 256) -> None:
        self.size = size
        self.dim = dim
        self.loads = 0

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, idx: int) -> dict:
        self.loads += 1
        return dict(
            inputs=torch.full((self.dim, ), float(idx)), data_samples=idx)


def build_toy_runner(work_dir: Union[str, Path],
                     max_epochs: int = 3,
                     checkpoint: dict = dict(interval=1, max_keep_ckpts=1),
                     size: int = 8,
                     model: Optional[Union[ToyModel, dict]] = None,
                     **kwargs) -> ReIDRunner:
    """A runner (this toolbox's: atomic saves, safe loads) of
    :class:`ToyModel` on :class:`ToySet`, batches of 4, with this toolbox's
    resumable loop, checkpoint and random-state hooks.

    Args:
        work_dir (str | Path): Its work dir.
        max_epochs (int): Epochs. Defaults to 3.
        checkpoint (dict): Arguments of its ``AtomicCheckpointHook``.
        size (int): Samples in the dataset. Defaults to 8.
        model (ToyModel | dict, optional): The model, or its config for
            the runner to build; None builds a :class:`ToyModel`.
        **kwargs: More ``Runner`` arguments (``resume``, ``train_cfg``,
            ``train_dataloader``...), replacing the defaults.

    Returns:
        ReIDRunner: Not trained yet.
    """
    # An experiment name of its own: MMEngine shares the message hub (and
    # its kept-checkpoint list) between runners named alike.
    kwargs.setdefault('experiment_name', f'toy_{time.time_ns()}')
    kwargs.setdefault(
        'train_dataloader',
        dict(
            dataset=ToySet(size),
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=4,
            num_workers=0))
    kwargs.setdefault(
        'train_cfg',
        dict(type='ResumableEpochBasedTrainLoop', max_epochs=max_epochs))
    return ReIDRunner(
        model=model if model is not None else ToyModel(),
        work_dir=str(work_dir),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=dict(
            checkpoint=dict(type='AtomicCheckpointHook', **checkpoint),
            random_state=dict(type='RandomStateHook')),
        default_scope='mmreid_unsup',
        **kwargs)
