"""Read checkpoints safely wherever a config or a tool names one.

:func:`read_checkpoint` is the one entry: a ``zoo://NAME`` is resolved
through the model zoo (downloaded once, sha256-verified), a local path or a
remote one (``http://``, ``torchvision://``, ``s3://``...) is read, and in
every case the file is unpickled by
:func:`~mmreid_unsup.utils.safe_torch_load`: ``weights_only=True`` passed
explicitly, only inert stand-ins allow-listed for that call, the result
rebuilt from type-checked plain data, ``meta['config']`` dropped. A file
that could run code is refused with an
:class:`~mmreid_unsup.utils.UnsafeCheckpointError` naming it.

Its users:

- :class:`~mmreid_unsup.engine.ReIDRunner` (``load_from``, ``resume``,
  ``tools/test.py``);
- :class:`SafePretrainedInit`, registered as ``'Pretrained'`` in this
  package's weight-initializer registry: under ``default_scope =
  'mmreid_unsup'`` MMEngine builds it, instead of its own, for every
  ``init_cfg=dict(type='Pretrained', checkpoint=...)``;
- :func:`load_checkpoint`, this package's counterpart of MMEngine's
  ``load_checkpoint(model, filename)``.

Nothing is registered with MMEngine's ``CheckpointLoader`` for this.
"""
from collections import OrderedDict
from typing import Any, Mapping, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model.weight_init import PretrainedInit, update_init_info
from mmengine.runner.checkpoint import load_state_dict

from mmreid_unsup.model_zoo.checkpoint_loader import ZOO_PREFIX, load_from_zoo
from mmreid_unsup.registry import WEIGHT_INITIALIZERS
from mmreid_unsup.utils.checkpoint_fit import (DEFAULT_REVISE_KEYS,
                                               checkpoint_state_dict)
from mmreid_unsup.utils.safe_checkpoint import (load_local_checkpoint,
                                                load_remote_checkpoint)

__all__ = [
    'read_checkpoint', 'load_checkpoint', 'state_dict_with_prefix',
    'SafePretrainedInit'
]

MapLocation = Union[str, torch.device, Any, None]


def read_checkpoint(filename: str,
                    map_location: MapLocation = None,
                    logger: Optional[str] = 'current') -> Any:
    """Read a checkpoint as plain data, wherever it is.

    Args:
        filename (str): ``zoo://NAME``, a URL of a scheme MMEngine knows
            (``http://``, ``torchvision://``, ``open-mmlab://``,
            ``s3://``...), or a local path.
        map_location (str | torch.device | callable, optional): As for
            :func:`torch.load`.
        logger (str, optional): Where MMEngine logs a remote load.

    Returns:
        The checkpoint (usually a dict with ``state_dict`` and ``meta``).

    Raises:
        UnsafeCheckpointError: The file could run code or holds anything
            but plain data (the message names it).
        CheckpointIsADirectoryError: A local path names a directory.
        FileNotFoundError: No such local file.
        ModelZooError: A ``zoo://`` name is unknown or cannot be fetched.
    """
    filename = str(filename)
    if filename.startswith(ZOO_PREFIX):
        return load_from_zoo(filename, map_location=map_location)
    if '://' in filename:
        return load_remote_checkpoint(
            filename, map_location=map_location, logger=logger)
    return load_local_checkpoint(filename, map_location=map_location)


def load_checkpoint(
    model: nn.Module,
    filename: str,
    map_location: MapLocation = None,
    strict: bool = False,
    logger: Any = None,
    revise_keys: Sequence[Tuple[str, str]] = DEFAULT_REVISE_KEYS
) -> Mapping:
    """Load a checkpoint into ``model``: MMEngine's ``load_checkpoint``
    read through :func:`read_checkpoint`.

    Args:
        model (nn.Module): The model (a wrapper's module is loaded).
        filename (str): See :func:`read_checkpoint`.
        map_location (str | torch.device | callable, optional): As for
            :func:`torch.load`.
        strict (bool): Whether the keys must match exactly. Defaults to
            False (differences are logged, as MMEngine does).
        logger: Where MMEngine's ``load_state_dict`` reports differences.
        revise_keys (Sequence[tuple[str, str]]): ``(pattern, replacement)``
            regular expressions applied to every key, in order. Defaults
            to stripping a leading ``module.``.

    Returns:
        dict: The checkpoint.

    Raises:
        RuntimeError: The checkpoint is not a dict.
        UnsafeCheckpointError: See :func:`read_checkpoint`.
    """
    checkpoint = read_checkpoint(filename, map_location=map_location)
    if not isinstance(checkpoint, dict):
        raise RuntimeError(f'No state_dict found in checkpoint file '
                           f'{filename}')
    load_state_dict(model, checkpoint_state_dict(checkpoint, revise_keys),
                    strict, logger)
    return checkpoint


def state_dict_with_prefix(checkpoint: Mapping, prefix: str,
                           source: str = 'the checkpoint') -> OrderedDict:
    """The weights of a sub-module: the keys under ``prefix``, without it.

    Args:
        checkpoint (Mapping): A loaded checkpoint (with ``state_dict``, or
            a bare state dict).
        prefix (str): e.g. ``'backbone'`` or ``'backbone.'``.
        source (str): How messages name the checkpoint.

    Returns:
        OrderedDict: ``key -> value`` for the keys starting with
        ``prefix``, the prefix removed.

    Raises:
        KeyError: No key starts with ``prefix``.
    """
    if not prefix.endswith('.'):
        prefix += '.'
    state_dict = checkpoint_state_dict(checkpoint, revise_keys=())
    selected = OrderedDict((key[len(prefix):], value)
                           for key, value in state_dict.items()
                           if key.startswith(prefix))
    if not selected:
        heads = sorted({str(key).split('.')[0] for key in state_dict})
        raise KeyError(f'{source} has no weights under {prefix!r}; its keys '
                       f'start with: {", ".join(heads[:10]) or "(none)"}')
    return selected


@WEIGHT_INITIALIZERS.register_module(name='Pretrained')
class SafePretrainedInit(PretrainedInit):
    """``init_cfg=dict(type='Pretrained', checkpoint=...)``, read safely.

    MMEngine's ``PretrainedInit`` with the same arguments and behaviour,
    except that the checkpoint is read by :func:`read_checkpoint`: never
    with code execution, and ``zoo://NAME`` works. Registered under the
    same name in this package's registry, so configs keep
    ``type='Pretrained'``: under ``default_scope = 'mmreid_unsup'`` (every
    config of this toolbox; :func:`~mmreid_unsup.utils.register_all_modules`
    sets it outside a runner) MMEngine finds this class first.

    Args:
        checkpoint (str): The checkpoint (see :func:`read_checkpoint`).
        prefix (str, optional): Load only the weights under this prefix of
            the checkpoint (e.g. ``'backbone.'``), into the module.
        map_location (str): Where to map the tensors. Defaults to
            ``'cpu'``.
    """

    def __call__(self, module: nn.Module) -> None:
        """Load the checkpoint (or the part under ``prefix``) into
        ``module``, without strictness, as MMEngine does."""
        if self.prefix is None:
            print_log(f'load model from: {self.checkpoint}', logger='current')
            load_checkpoint(
                module,
                self.checkpoint,
                map_location=self.map_location,
                strict=False,
                logger='current')
        else:
            print_log(
                f'load {self.prefix} in model from: {self.checkpoint}',
                logger='current')
            checkpoint = read_checkpoint(
                self.checkpoint, map_location=self.map_location)
            load_state_dict(
                module,
                state_dict_with_prefix(checkpoint, self.prefix,
                                       str(self.checkpoint)),
                strict=False,
                logger='current')
        if hasattr(module, '_params_init_info'):
            update_init_info(
                module,
                init_info=f'{type(self).__name__}: load from '
                f'{self.checkpoint}')
