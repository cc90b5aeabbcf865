"""The ``zoo://NAME`` checkpoint paths.

The runner of this toolbox and its ``Pretrained`` initializer
(:mod:`mmreid_unsup.engine.checkpoint_io`) accept a model zoo name wherever
a config names a checkpoint::

    load_from = 'zoo://NAME'
    model = dict(..., init_cfg=dict(type='Pretrained',
                                    checkpoint='zoo://NAME'))

MMEngine's own ``load_checkpoint`` accepts it after
:func:`register_zoo_scheme` (which
:func:`~mmreid_unsup.utils.register_all_modules` calls; importing the
package registers nothing).

The name is resolved through the index, the file is downloaded (once per
machine: local rank 0 fetches, the other ranks wait and read the cache),
verified, and read with :func:`~mmreid_unsup.utils.safe_torch_load`:
nothing in the file can run code.
"""
import os
from typing import Any, Optional, Union

import torch
from mmengine.dist import barrier, get_dist_info, get_local_rank
from mmengine.runner.checkpoint import CheckpointLoader

from ..utils.safe_checkpoint import safe_torch_load
from .download import get_checkpoint
from .index import load_index

__all__ = ['ZOO_PREFIX', 'load_from_zoo', 'register_zoo_scheme']

#: The prefix of model zoo checkpoint paths.
ZOO_PREFIX = 'zoo://'


def load_from_zoo(filename: str,
                  map_location: Optional[Union[str, torch.device,
                                               Any]] = None) -> Any:
    """Load the checkpoint ``zoo://NAME`` (MMEngine checkpoint loader).

    Args:
        filename (str): ``zoo://NAME``.
        map_location (str | torch.device | callable, optional): As for
            :func:`torch.load`.

    Returns:
        dict: The checkpoint (``state_dict``, ``meta``, ...).

    Raises:
        UnknownModelError: NAME is not in the index (close names listed).
        OfflineError: Offline mode and the file is not cached.
        ChecksumError: The downloaded file does not match the index.
        DownloadError: The file cannot be downloaded.
    """
    name = filename[len(ZOO_PREFIX):] if filename.startswith(
        ZOO_PREFIX) else filename
    # Resolve on every rank first, so a wrong name fails everywhere instead
    # of leaving the other ranks waiting at the barrier.
    model = load_index().get(name)
    rank, world_size = get_dist_info()
    if world_size > 1 and _local_rank(rank) != 0:
        barrier()  # local rank 0 downloads
        path = get_checkpoint(model)
    else:
        try:
            path = get_checkpoint(model)
        finally:  # a failed download must not leave the others waiting
            if world_size > 1:
                barrier()
    # Messages name the zoo path and the cached file.
    return safe_torch_load(
        path, map_location=map_location, name=f'{ZOO_PREFIX}{name} ({path})')


def _local_rank(rank: int) -> int:
    """The rank within the node: MMEngine's local group when it made one,
    else ``$LOCAL_RANK`` (torchrun), else the global rank."""
    try:
        return get_local_rank()
    except RuntimeError:  # torch.distributed set up without MMEngine
        return int(os.environ.get('LOCAL_RANK', rank))


def register_zoo_scheme() -> None:
    """Register :func:`load_from_zoo` for ``zoo://`` with MMEngine's
    ``CheckpointLoader`` (its public ``register_scheme``; idempotent).

    ``zoo://`` is this package's own prefix: no scheme of MMEngine's is
    replaced.
    """
    CheckpointLoader.register_scheme(
        prefixes=ZOO_PREFIX, loader=load_from_zoo, force=True)
