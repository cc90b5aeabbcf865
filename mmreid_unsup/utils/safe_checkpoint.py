"""Load checkpoints as plain data: loading a file never runs code from it.

Every path this package loads checkpoints through ends in
:func:`safe_torch_load`: MMEngine's ``CheckpointLoader`` (``load_from``,
``resume``, ``init_cfg=dict(type='Pretrained')``, ``load_checkpoint``,
:func:`mmreid_unsup.apis.init_model`, ``tools/test.py``) through the
loaders :func:`register_safe_checkpoint_loader` installs, ``zoo://NAME``,
the remote schemes (``http://``, ``torchvision://``, ...) and
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
"""
import functools
import os
import pickle
import threading
from contextlib import contextmanager
from typing import IO, Any, Callable, Iterator, Optional, Union

import torch

from .checkpoint_contents import plain_checkpoint
from .checkpoint_errors import (UnsafeCheckpointError, is_weights_only_refusal,
                                unsafe_checkpoint_error)
from .checkpoint_path import check_checkpoint_file, directory_checkpoint_error
from .checkpoint_stand_ins import STAND_INS

__all__ = [
    'UnsafeCheckpointError', 'safe_torch_load',
    'register_checkpoint_safe_globals', 'register_safe_checkpoint_loader',
    'unsafe_checkpoint_error'
]

#: ``torch.load`` itself, even while :func:`_torch_load_made_safe` replaces
#: it for a remote loader.
_TORCH_LOAD = torch.load

#: Serialises the changes to torch's allow-list and to ``torch.load``.
_LOCK = threading.RLock()


def register_checkpoint_safe_globals() -> None:
    """Let plain ``torch.load(weights_only=True)`` read our checkpoints.

    :func:`safe_torch_load` does not need this: it allow-lists the
    stand-ins itself, for its own call only. Registered globally (when
    ``mmreid_unsup`` is imported) are the same inert stand-ins of
    :mod:`.checkpoint_stand_ins`, so that a script or test calling
    ``torch.load(path, weights_only=True)`` on a checkpoint this package
    wrote still unpickles it: numpy scalars come back as numpy scalars,
    arrays and ``HistoryBuffer`` objects as validated records. Nothing that
    can run code is added (no ``getattr``, no real MMEngine or numpy
    class). Idempotent.
    """
    torch.serialization.add_safe_globals(STAND_INS)


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


def _load_from_local(filename: str, map_location=None) -> Any:
    """MMEngine's local-path checkpoint loader, through safe_torch_load."""
    return safe_torch_load(check_checkpoint_file(filename),
                           map_location=map_location)


@contextmanager
def _torch_load_made_safe(source: str) -> Iterator[None]:
    """Inside the block ``torch.load`` is :func:`safe_torch_load`.

    MMEngine's remote loaders (``http://``, ``pavi://``, ``s3://``,
    ``open-mmlab://``, ...) download the file and call ``torch.load``
    themselves, with torch's default ``weights_only`` that an environment
    variable can turn off; here their call is read safely whatever the
    arguments, and messages name ``source`` (the URL).
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


def _through_safe_torch_load(loader: Callable) -> Callable:
    """Wrap a non-local MMEngine loader: every file read goes through
    :func:`safe_torch_load`, and its refusals name the checkpoint path."""
    if getattr(loader, '_mmreid_safe', False):
        return loader

    @functools.wraps(loader)
    def load(filename: str, *args, **kwargs) -> Any:
        try:
            with _torch_load_made_safe(filename):
                return loader(filename, *args, **kwargs)
        except UnsafeCheckpointError as err:
            if str(err).startswith(filename):
                raise
            raise UnsafeCheckpointError(f'{filename}: {err}') from err

    load._mmreid_safe = True  # type: ignore[attr-defined]
    return load


def register_safe_checkpoint_loader() -> None:
    """Make every MMEngine checkpoint load go through safe_torch_load.

    ``mmengine.runner.load_checkpoint``, ``Runner`` (``load_from`` and
    ``resume``), ``init_cfg=dict(type='Pretrained')`` and
    :func:`mmreid_unsup.apis.init_model` all read files through
    ``CheckpointLoader``. Its loader for local paths is replaced by one that
    calls :func:`safe_torch_load` (a directory is reported as such, with
    the checkpoints it holds); the loaders of the other schemes
    (``zoo://``, ``http://``, ``torchvision://``, ...) are wrapped so that
    the ``torch.load`` they call is :func:`safe_torch_load`. Idempotent.
    """
    from mmengine.runner.checkpoint import CheckpointLoader
    for prefix, loader in list(CheckpointLoader._schemes.items()):
        if prefix != '':
            CheckpointLoader._schemes[prefix] = _through_safe_torch_load(
                loader)
    CheckpointLoader.register_scheme(prefixes='',
                                     loader=_load_from_local,
                                     force=True)
