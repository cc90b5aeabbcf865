"""Load checkpoints as plain data: loading a file never runs code from it.

Every path this package loads checkpoints through ends in
:func:`safe_torch_load`: the runner of this toolbox
(:class:`~mmreid_unsup.engine.ReIDRunner`: ``load_from``, ``resume``,
``tools/test.py``), ``init_cfg=dict(type='Pretrained')`` under the
``mmreid_unsup`` scope, :func:`mmreid_unsup.engine.load_checkpoint`,
:func:`mmreid_unsup.apis.init_model`, ``zoo://NAME``, the remote schemes
(``http://``, ``torchvision://``, ...) and
``tools/model_converters/torchreid2mmreid.py``. It

1. unpickles with ``torch.load(weights_only=True)`` passed explicitly,
   allow-listing for that call exactly the inert stand-ins of
   :mod:`.checkpoint_stand_ins` (whatever else any code allow-listed is set
   aside meanwhile), so no general-purpose callable and no real class
   beyond torch's defaults is reachable from the file;
2. keeps only plain data (:func:`.checkpoint_contents.plain_checkpoint`):
   containers, numbers, strings, tensors, numpy arrays and MMEngine's
   ``HistoryBuffer`` objects rebuilt by their constructors; anything else
   is refused with an :class:`UnsafeCheckpointError` naming the file and
   the key path. ``meta['config']``, which MMEngine's ``Runner.resume``
   would execute, is dropped.

Nothing here changes torch's or MMEngine's state when imported: the
allow-list is set for the duration of one load only
(:func:`checkpoint_safe_globals` offers the same for a script's own
``torch.load``).
"""
import os
import pickle
import threading
from contextlib import contextmanager
from typing import IO, Any, Iterator, Optional, Union

import torch

from .checkpoint_contents import plain_checkpoint
from .checkpoint_errors import (UnsafeCheckpointError, is_weights_only_refusal,
                                unsafe_checkpoint_error)
from .checkpoint_path import check_checkpoint_file, directory_checkpoint_error
from .checkpoint_stand_ins import STAND_INS

__all__ = [
    'UnsafeCheckpointError', 'safe_torch_load', 'checkpoint_safe_globals',
    'load_local_checkpoint', 'load_remote_checkpoint',
    'unsafe_checkpoint_error'
]

#: ``torch.load`` itself, even while :func:`_torch_load_made_safe` replaces
#: it for a remote loader.
_TORCH_LOAD = torch.load

#: Serialises the changes to torch's allow-list and to ``torch.load``.
_LOCK = threading.RLock()


@contextmanager
def checkpoint_safe_globals() -> Iterator[None]:
    """Let plain ``torch.load(weights_only=True)`` read our checkpoints,
    inside the block only.

    :func:`safe_torch_load` does not need this: it allow-lists the
    stand-ins itself, for its own call only, and rebuilds real objects from
    them. This is for a script or test that calls
    ``torch.load(path, weights_only=True)`` on a checkpoint MMEngine wrote:
    inside the block the same inert stand-ins of
    :mod:`.checkpoint_stand_ins` are allow-listed (added to whatever was),
    so numpy scalars come back as numpy scalars, arrays and
    ``HistoryBuffer`` objects as validated records. Nothing that can run
    code is added (no ``getattr``, no real MMEngine or numpy class). The
    allow-list is restored when the block ends.

    Example:
        >>> with checkpoint_safe_globals():
        ...     ckpt = torch.load('epoch_1.pth', weights_only=True)
    """
    with _LOCK, torch.serialization.safe_globals(STAND_INS):
        yield


@contextmanager
def _only_stand_ins_allowed() -> Iterator[None]:
    """Inside the block torch's allow-list is exactly :data:`STAND_INS`.

    Globals other code allow-listed (``add_safe_globals``) could shadow a
    stand-in's name or reopen a path to code; they are put back after.
    """
    with _LOCK:
        others = torch.serialization.get_safe_globals()
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals(STAND_INS)
        try:
            yield
        finally:
            torch.serialization.clear_safe_globals()
            torch.serialization.add_safe_globals(others)


def _display_name(filename: Union[str, 'os.PathLike', IO[bytes]]) -> str:
    """The name of a checkpoint path or file object, for messages."""
    if hasattr(filename, 'read'):
        return str(getattr(filename, 'name', '<file object>'))
    return str(filename)


def safe_torch_load(filename: Union[str, 'os.PathLike', IO[bytes]],
                    map_location=None,
                    *,
                    name: Optional[str] = None) -> Any:
    """Load a checkpoint as plain data; refuse a file that could run code.

    ``weights_only=True`` is passed explicitly, so neither torch < 2.6
    (whose default is ``False``) nor ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``
    turns the safety off. See the module docstring for what is kept.

    Args:
        filename (str | PathLike | file): The checkpoint.
        map_location: As for :func:`torch.load`.
        name (str, optional): How messages name the file (default: the
            path, or the file object's name), e.g. the URL it came from.

    Returns:
        The checkpoint, made of plain data only (fresh containers, tensors,
        numpy values, rebuilt ``HistoryBuffer`` objects).

    Raises:
        UnsafeCheckpointError: The file references an object that is not
            allow-listed (``os.system`` via ``__reduce__``, ``eval``,
            ``getattr`` other than HistoryBuffer's statistics, ...), gives
            a stand-in state it does not accept, or holds anything but
            plain data. The message names the file (and the key path).
            Nothing of it was executed.
        CheckpointIsADirectoryError: ``filename`` is a directory (the
            message lists the checkpoints in it).
    """
    display = name or _display_name(filename)
    if isinstance(filename, (str, os.PathLike)) and os.path.isdir(filename):
        raise directory_checkpoint_error(str(filename))
    try:
        with _only_stand_ins_allowed():
            checkpoint = _TORCH_LOAD(filename,
                                     map_location=map_location,
                                     weights_only=True)
    except pickle.UnpicklingError as err:
        if not is_weights_only_refusal(err):
            raise
        raise unsafe_checkpoint_error(display, err) from err
    return plain_checkpoint(checkpoint, display)


def load_local_checkpoint(filename: str, map_location=None) -> Any:
    """Load a checkpoint file from the local disk through
    :func:`safe_torch_load`.

    Args:
        filename (str): The file (``~`` is expanded).
        map_location: As for :func:`torch.load`.

    Returns:
        The checkpoint, plain data only.

    Raises:
        CheckpointIsADirectoryError: ``filename`` is a directory (the
            message lists the checkpoints in it).
        FileNotFoundError: No such file.
        UnsafeCheckpointError: See :func:`safe_torch_load`.
    """
    return safe_torch_load(check_checkpoint_file(filename),
                           map_location=map_location)


@contextmanager
def _torch_load_made_safe(source: str) -> Iterator[None]:
    """Inside the block ``torch.load`` is :func:`safe_torch_load`.

    MMEngine's remote loaders (``http://``, ``pavi://``, ``s3://``,
    ``open-mmlab://``, ...) download the file and call ``torch.load``
    themselves, with torch's default ``weights_only`` that an environment
    variable can turn off; here their call is read safely whatever the
    arguments, and messages name ``source`` (the URL). The original is put
    back when the block ends (the lock keeps two remote loads from
    interleaving their replacements).
    """

    def load(f: Any, map_location=None, *args: Any, **kwargs: Any) -> Any:
        shown = _display_name(f)
        shown = source if shown == source else f'{source} ({shown})'
        return safe_torch_load(f, map_location=map_location, name=shown)

    with _LOCK:
        original = torch.load
        torch.load = load
        try:
            yield
        finally:
            torch.load = original


def load_remote_checkpoint(filename: str,
                           map_location=None,
                           logger: Optional[str] = 'current') -> Any:
    """Load ``http://``, ``torchvision://``, ``s3://``... checkpoints
    through MMEngine's loader of the scheme, read by
    :func:`safe_torch_load`.

    MMEngine's ``CheckpointLoader`` (its public ``load_checkpoint``) finds
    the loader of the path's scheme, which downloads or fetches the file
    and calls ``torch.load``; for the duration of that call ``torch.load``
    is :func:`safe_torch_load`, whatever arguments the loader passes.
    Nothing is registered with MMEngine.

    Args:
        filename (str): A path with a scheme MMEngine knows.
        map_location: As for :func:`torch.load`.
        logger (str, optional): Where MMEngine logs the load.

    Returns:
        The checkpoint, plain data only.

    Raises:
        UnsafeCheckpointError: See :func:`safe_torch_load`; the message
            starts with ``filename``.
    """
    from mmengine.runner.checkpoint import CheckpointLoader
    try:
        with _torch_load_made_safe(filename):
            return CheckpointLoader.load_checkpoint(
                filename, map_location=map_location, logger=logger)
    except UnsafeCheckpointError as err:
        if str(err).startswith(filename):
            raise
        raise UnsafeCheckpointError(f'{filename}: {err}') from err
