"""Load checkpoints with ``torch.load(weights_only=True)`` only.

Loading a checkpoint never runs code from the file: every path MMEngine
loads through uses :func:`safe_torch_load`, which refuses a file holding
anything but tensors, plain containers and the few allow-listed objects
MMEngine writes, with an :class:`UnsafeCheckpointError` naming the file.
"""
import builtins
import functools
import os
import pickle
from typing import IO, Any, Callable, Union

import numpy as np
import torch


def _numpy_globals() -> list:
    """The numpy objects that pickled numpy scalars and arrays reference."""
    core = getattr(np, '_core', None) or np.core  # numpy 2.x / 1.x
    names = [
        np.ndarray, np.dtype, core.multiarray._reconstruct,
        core.multiarray.scalar
    ]
    for dtype_name in ('Float64DType', 'Float32DType', 'Float16DType',
                       'Int64DType', 'Int32DType', 'BoolDType', 'UInt8DType'):
        dtype_cls = getattr(getattr(np, 'dtypes', None), dtype_name, None)
        if dtype_cls is not None:
            names.append(dtype_cls)
    return names


def register_checkpoint_safe_globals() -> None:
    """Allow-list what MMEngine checkpoints contain for ``weights_only`` loads.

    MMEngine stores ``HistoryBuffer`` objects (message hub) and numpy scalars
    (log values, seeds) in checkpoints. With torch >= 2.6 ``torch.load``
    refuses them unless they are allow-listed. Nothing that can run arbitrary
    code (``os.system``, ``eval``, ...) is added; ``getattr`` is needed by the
    way numpy pickles dtypes and only resolves attributes of allow-listed
    objects.
    """
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is None:  # torch < 2.4: weights_only is not default
        return
    from mmengine.logging.history_buffer import HistoryBuffer
    add_safe_globals([HistoryBuffer, builtins.getattr] + _numpy_globals())


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint file whose unpickling could run code; it was not loaded.

    A subclass of :class:`pickle.UnpicklingError`, so code that caught the
    error ``torch.load(weights_only=True)`` raises keeps working.
    """


#: Lines of torch's weights_only error that are advice, not the reason.
_TORCH_ADVICE = ('Weights only load failed', 'In PyTorch 2.6',
                 'Please file an issue', 'Check the documentation',
                 'Re-running `torch.load`')


def _refusal_reason(err: BaseException) -> str:
    """The line of torch's weights_only error that says what was refused."""
    lines = [line.strip() for line in str(err).splitlines()]
    reasons = [
        line for line in lines
        if line and not any(advice in line for advice in _TORCH_ADVICE)
    ]
    return reasons[0] if reasons else (lines[0] if lines else repr(err))


def unsafe_checkpoint_error(filename: str,
                            err: BaseException) -> UnsafeCheckpointError:
    """The error to raise for a file ``torch.load`` refused to unpickle.

    Args:
        filename (str): The checkpoint file (or URL) that was refused.
        err (BaseException): The error of ``torch.load(weights_only=True)``.

    Returns:
        UnsafeCheckpointError: With a message naming the file and the
        refused object, and saying why nothing is loaded.
    """
    return UnsafeCheckpointError(
        f'{filename} is not a safe checkpoint: torch.load(weights_only=True) '
        f'refused it ({_refusal_reason(err)}). mmreid_unsup loads '
        'checkpoints with weights_only=True only, so that loading a file '
        'can never run code from it, and this file holds an object that '
        'could. Nothing was loaded. If you trust the file, load it '
        'yourself, keep its tensors (the state_dict) and torch.save them '
        'to a new file.')


def _is_weights_only_refusal(err: BaseException) -> bool:
    """Whether ``err`` is torch's weights_only unpickler refusing an object.

    Other unpickling errors (a corrupt or truncated file) are not about
    safety and propagate unchanged.
    """
    return (isinstance(err, pickle.UnpicklingError)
            and not isinstance(err, UnsafeCheckpointError)
            and 'weights only load failed' in str(err).lower())


def safe_torch_load(filename: Union[str, 'os.PathLike', IO[bytes]],
                    map_location=None) -> Any:
    """``torch.load(weights_only=True)`` with a clear error for unsafe files.

    ``weights_only=True`` is passed explicitly, so neither torch < 2.6 (whose
    default is ``False``) nor ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` turns
    the safety off. What MMEngine checkpoints contain beyond tensors is
    allow-listed by :func:`register_checkpoint_safe_globals`.

    Args:
        filename (str | PathLike | file): The checkpoint.
        map_location: As for :func:`torch.load`.

    Returns:
        The unpickled checkpoint.

    Raises:
        UnsafeCheckpointError: The file holds an object whose unpickling
            could run code (``os.system`` via ``__reduce__``, any class not
            allow-listed, ...). Nothing of it was executed.
    """
    try:
        return torch.load(
            filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        if not _is_weights_only_refusal(err):
            raise
        name = filename
        if hasattr(filename, 'read'):  # a file object: its name if any
            name = getattr(filename, 'name', '<file object>')
        raise unsafe_checkpoint_error(str(name), err) from err


def _load_from_local(filename: str, map_location=None) -> Any:
    """MMEngine's local-path checkpoint loader, through safe_torch_load."""
    filename = os.path.expanduser(filename)
    if not os.path.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return safe_torch_load(filename, map_location=map_location)


def _with_clear_refusal(loader: Callable) -> Callable:
    """Wrap a remote MMEngine loader: unsafe files get the clear message."""
    if getattr(loader, '_mmreid_safe', False):
        return loader

    @functools.wraps(loader)
    def load(filename: str, *args, **kwargs) -> Any:
        try:
            return loader(filename, *args, **kwargs)
        except pickle.UnpicklingError as err:
            if not _is_weights_only_refusal(err):
                raise
            raise unsafe_checkpoint_error(filename, err) from err

    load._mmreid_safe = True  # type: ignore[attr-defined]
    return load


def register_safe_checkpoint_loader() -> None:
    """Make every MMEngine checkpoint load refuse files that could run code.

    ``mmengine.runner.load_checkpoint``, ``Runner`` (``load_from`` and
    ``resume``), ``init_cfg=dict(type='Pretrained')`` and
    :func:`mmreid_unsup.apis.init_model` all read files through
    ``CheckpointLoader``. Its loader for local paths is replaced by one that
    calls :func:`safe_torch_load` (``weights_only=True`` explicitly, whatever
    the torch version or environment); the loaders of the other schemes
    (``http://``, ``torchvision://``, ...) rely on torch's default
    (``weights_only=True`` since torch 2.6) and get the same clear
    :class:`UnsafeCheckpointError`. Idempotent.
    """
    from mmengine.runner.checkpoint import CheckpointLoader
    for prefix, loader in list(CheckpointLoader._schemes.items()):
        if prefix != '':
            CheckpointLoader._schemes[prefix] = _with_clear_refusal(loader)
    CheckpointLoader.register_scheme(
        prefixes='', loader=_load_from_local, force=True)
