"""Keep only plain data from an unpickled checkpoint, rebuilt afresh.

After ``torch.load(weights_only=True)`` with the stand-ins of
:mod:`.checkpoint_stand_ins`, :func:`plain_checkpoint` walks the whole
object and returns a copy made only of:

- ``dict``, ``collections.OrderedDict`` (a ``state_dict``'s ``_metadata``
  kept, itself plain), ``collections.Counter``, ``list``, ``tuple``,
  ``set`` (exact types, no instance attributes);
- ``str``, ``bytes``, ``int``, ``float``, ``bool``, ``None``;
- ``torch.Tensor`` and ``torch.nn.Parameter`` (exact types, no instance
  attributes, no backward hooks), ``torch.Size``, ``torch.dtype``,
  ``torch.device``;
- numpy arrays and scalars of boolean, integer or float dtype, and the
  ``HistoryBuffer`` objects of MMEngine's message hub, each rebuilt by its
  constructor from the validated records.

Anything else (a class torch allows by default with attributes injected by
the pickle, a tensor subclass, a record left half-built, a container that
contains itself, nesting deeper than :data:`MAX_DEPTH`) raises
:class:`~mmreid_unsup.utils.UnsafeCheckpointError` naming the file and the
key path (``checkpoint['meta']['payload'][0]``). MMEngine's message hub is
checked for what MMEngine does with it: ``runtime_info`` (deep-copied on
resume) holds plain values only. A ``meta['config']`` string, which
MMEngine's ``Runner.resume`` would run as Python, is dropped with a
warning.
"""
import logging
from collections import Counter, OrderedDict
from typing import Any, Dict, Optional, Set

import numpy as np
import torch
from mmengine.logging import print_log
from mmengine.logging.history_buffer import HistoryBuffer

from .checkpoint_errors import unsafe_content_error
from .checkpoint_stand_ins import (DtypeRecord, HistoryBufferRecord,
                                   NdarrayRecord, RefusedPickleObject)

__all__ = ['MAX_DEPTH', 'plain_checkpoint']

#: Deepest nesting of containers accepted (real checkpoints: under 10).
MAX_DEPTH = 100

#: Values kept as they are.
_PLAIN_LEAVES = (str, bytes, int, float, bool, type(None), torch.dtype,
                 torch.device)

#: Types allowed as dict keys and set elements (and tuples of them).
_PLAIN_KEYS = (str, bytes, int, float, bool, type(None))

#: numpy scalar types kept as they are (what ``numpy_scalar`` returns).
_NUMPY_SCALARS = (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8,
                  np.uint16, np.uint32, np.uint64, np.float16, np.float32,
                  np.float64)


class _Refused(Exception):
    """An object that is not plain data, at ``key_path``."""

    def __init__(self, key_path: str, reason: str) -> None:
        super().__init__(key_path, reason)
        self.key_path = key_path
        self.reason = reason


def plain_checkpoint(checkpoint: Any, filename: str) -> Any:
    """The plain-data copy of an unpickled checkpoint.

    Args:
        checkpoint: What ``torch.load(weights_only=True)`` returned with
            the stand-ins of :mod:`.checkpoint_stand_ins` allow-listed.
        filename (str): The file, for error messages.

    Returns:
        The same structure with fresh containers, real numpy arrays and
        ``HistoryBuffer`` objects in place of the records, tensors as
        loaded, and no ``meta['config']``.

    Raises:
        UnsafeCheckpointError: Something in it is not plain data (the
            message names the file and the key path).
    """
    try:
        plain = _Rebuilder().rebuild(checkpoint, 'checkpoint', 0)
        _check_message_hub(plain)
    except _Refused as refused:
        raise unsafe_content_error(filename, _short(refused.key_path),
                                   refused.reason) from None
    return _without_meta_config(plain, filename)


def _short(key_path: str, limit: int = 160) -> str:
    """A key path cut in the middle when longer than ``limit``."""
    if len(key_path) <= limit:
        return key_path
    half = limit // 2
    return f'{key_path[:half]}...{key_path[-half:]}'


def _type_name(value: Any) -> str:
    """``module.Class`` of a value, for error messages."""
    cls = type(value)
    module = getattr(cls, '__module__', '') or ''
    if module == 'builtins':
        return cls.__qualname__
    return f'{module}.{cls.__qualname__}'


def _key_repr(key: Any) -> str:
    """A dict key as it would be written in Python, shortened."""
    text = repr(key)
    return text if len(text) <= 60 else text[:57] + '...'


class _Rebuilder:
    """One walk over an unpickled checkpoint (see :func:`plain_checkpoint`).

    Shared references stay shared (memo by ``id``) and each object is
    visited once, so a pickle that references one list many times cannot
    make the walk exponential.
    """

    def __init__(self) -> None:
        self.memo: Dict[int, Any] = {}
        self.active: Set[int] = set()

    def rebuild(self, value: Any, path: str, depth: int) -> Any:
        """The plain copy of ``value`` found at ``path``."""
        cls = type(value)
        if cls in _PLAIN_LEAVES or cls in _NUMPY_SCALARS:
            return value
        key = id(value)
        if key in self.memo:
            return self.memo[key]
        if key in self.active:
            raise _Refused(path, 'a container that contains itself')
        if depth > MAX_DEPTH:
            raise _Refused(
                path, f'containers nested deeper than {MAX_DEPTH} levels')
        self.active.add(key)
        try:
            result = self._rebuild_object(value, path, depth)
        except RefusedPickleObject as err:  # a half-built record
            reason = str(err)
            if reason.startswith('refused '):
                reason = reason[len('refused '):]
            raise _Refused(path, reason) from None
        finally:
            self.active.discard(key)
        self.memo[key] = result
        return result

    def _rebuild_object(self, value: Any, path: str, depth: int) -> Any:
        cls = type(value)
        if cls in (dict, OrderedDict, Counter):
            return self._rebuild_mapping(value, path, depth)
        if cls in (list, tuple, set):
            self._check_no_attributes(value, path)
            if cls is set:
                return {self._rebuild_key(item, path) for item in value}
            items = [
                self.rebuild(item, f'{path}[{index}]', depth + 1)
                for index, item in enumerate(value)
            ]
            return items if cls is list else tuple(items)
        if cls in (torch.Tensor, torch.nn.Parameter):
            return self._checked_tensor(value, path)
        if cls is torch.Size:
            if any(type(size) is not int for size in value):
                raise _Refused(path, 'a torch.Size of non-int sizes')
            return value
        if cls is np.ndarray:
            if value.dtype.kind not in 'biuf' or value.dtype.hasobject:
                raise _Refused(path, f'a numpy array of dtype {value.dtype}')
            return value
        if cls is NdarrayRecord:
            return value.array
        if cls is DtypeRecord:
            return value.dtype
        if cls is HistoryBufferRecord:
            return value.to_history_buffer()
        raise _Refused(
            path, f'an object of type {_type_name(value)}, which is not '
            'plain data (only containers, numbers, strings, tensors, numpy '
            'arrays and MMEngine HistoryBuffers load)')

    def _rebuild_mapping(self, value: dict, path: str, depth: int) -> dict:
        cls = type(value)
        attributes = dict(vars(value)) if hasattr(value, '__dict__') else {}
        metadata = attributes.pop('_metadata', None)
        if attributes or (metadata is not None and cls is not OrderedDict):
            names = list(attributes) or ['_metadata']
            raise _Refused(
                path, f'a {cls.__name__} with the instance attributes '
                f'{[_key_repr(name) for name in names]}')
        result = cls()
        for key, item in value.items():
            plain_key = self._rebuild_key(key, path)
            result[plain_key] = self.rebuild(item, f'{path}[{_key_repr(key)}]',
                                             depth + 1)
        if metadata is not None:
            result._metadata = self.rebuild(metadata, f'{path}._metadata',
                                            depth + 1)
        return result

    def _rebuild_key(self, key: Any, path: str) -> Any:
        """A dict key or set element: plain, hashable, kept as it is."""
        if type(key) in _PLAIN_KEYS:
            return key
        if type(key) is tuple:
            return tuple(self._rebuild_key(item, path) for item in key)
        raise _Refused(
            path, f'a key or set element of type {_type_name(key)}, which '
            'is not plain data')

    @staticmethod
    def _check_no_attributes(value: Any, path: str) -> None:
        """Built-in containers cannot carry attributes; checked anyway."""
        if getattr(value, '__dict__', None):
            raise _Refused(path, f'a {type(value).__name__} with attributes')

    @staticmethod
    def _checked_tensor(tensor: torch.Tensor, path: str) -> torch.Tensor:
        """A tensor as torch's weights_only unpickler builds it, nothing
        set on it by the pickle."""
        attributes = list(vars(tensor))
        if attributes:
            raise _Refused(
                path, f'a {_type_name(tensor)} with the instance attributes '
                f'{[_key_repr(name) for name in attributes]}')
        if tensor._backward_hooks:
            raise _Refused(path, 'a tensor with backward hooks')
        return tensor


def _check_message_hub(checkpoint: Any) -> None:
    """What MMEngine's ``MessageHub.load_state_dict`` deep-copies is plain.

    ``runtime_info`` values are deep-copied on resume: they may be numbers,
    strings, containers, tensors and numpy values, not ``HistoryBuffer``
    objects (MMEngine never stores one there). ``log_scalars`` values are
    plain already (MMEngine skips the ones that are not ``HistoryBuffer``).
    """
    if type(checkpoint) is not dict:
        return
    hub = checkpoint.get('message_hub')
    if hub is None:
        return
    path = "checkpoint['message_hub']"
    if type(hub) is not dict:
        raise _Refused(path, f'a {_type_name(hub)}: expected a dict')
    for key in ('runtime_info', 'log_scalars', 'resumed_keys'):
        if key in hub and type(hub[key]) not in (dict, OrderedDict):
            raise _Refused(f'{path}[{key!r}]',
                           f'a {_type_name(hub[key])}: expected a dict')
    for name, value in hub.get('runtime_info', {}).items():
        found = _find_history_buffer(value)
        if found is not None:
            raise _Refused(
                f"{path}['runtime_info'][{_key_repr(name)}]{found}",
                'a HistoryBuffer: runtime_info holds plain values only')


def _find_history_buffer(value: Any, depth: int = 0) -> Optional[str]:
    """The key path suffix of a HistoryBuffer inside ``value``, if any."""
    if type(value) is HistoryBuffer:
        return ''
    if depth > MAX_DEPTH:
        return None
    items: Any = ()
    if isinstance(value, dict):
        items = ((f'[{_key_repr(k)}]', v) for k, v in value.items())
    elif type(value) in (list, tuple):
        items = ((f'[{i}]', v) for i, v in enumerate(value))
    for suffix, item in items:
        found = _find_history_buffer(item, depth + 1)
        if found is not None:
            return suffix + found
    return None


def _without_meta_config(checkpoint: Any, filename: str) -> Any:
    """Drop ``meta['config']``, which ``Runner.resume`` runs as Python.

    MMEngine's ``Runner.resume`` passes ``checkpoint['meta']['config']`` to
    ``Config.fromstring``, which executes it; MMEngine itself writes the
    config under ``meta['cfg']`` (never executed on load), and only old
    OpenMMLab 1.x checkpoints have ``meta['config']``.
    """
    meta = checkpoint.get('meta') if type(checkpoint) is dict else None
    if type(meta) is dict and 'config' in meta:
        del meta['config']
        print_log(
            f"{filename}: dropped checkpoint['meta']['config'], which "
            "MMEngine's Runner.resume would run as Python code; the rest of "
            'the checkpoint loads.',
            logger='current',
            level=logging.WARNING)
    return checkpoint
