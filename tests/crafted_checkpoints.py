"""A corpus of crafted checkpoints that try to run code when loaded.

Each file is a real torch zip checkpoint (``torch.save`` with pickle
protocol 2) whose pickle is shaped by small ``__reduce__`` helpers:
:class:`Call` writes ``func(*args)`` (GLOBAL + REDUCE), :class:`Built`
writes ``cls.__new__(cls)`` + BUILD ``state`` (NEWOBJ), :class:`Reduced`
writes ``func(*args)`` + BUILD ``state``. A payload that runs creates its
marker file, so a test proves nothing ran by the marker's absence.

A plain module (not ``conftest``) so tests in any folder can import it.
"""
import codecs
import copyreg
import os
import pickle
from collections import Counter, OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer

_NUMPY_CORE = getattr(np, '_core', None) or np.core
_RECONSTRUCT = _NUMPY_CORE.multiarray._reconstruct
_SCALAR = _NUMPY_CORE.multiarray.scalar


class Call:
    """Pickles as ``func(*args)``."""

    def __init__(self, func: Callable, *args: Any) -> None:
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args

    def __call__(self, *args: Any) -> None:
        """Only so that a Call can be the function of another Call (the
        pickler checks ``callable``); never called here."""
        raise NotImplementedError


class Reduced:
    """Pickles as ``func(*args)`` followed by BUILD ``state``."""

    def __init__(self, func: Callable, args: tuple, state: Any) -> None:
        self.func, self.args, self.state = func, args, state

    def __reduce__(self):
        return self.func, self.args, self.state


class Built:
    """Pickles as ``cls.__new__(cls)`` (NEWOBJ) followed by BUILD ``state``."""

    def __init__(self, cls: type, state: Any) -> None:
        self.cls, self.state = cls, state

    @property
    def __class__(self):  # the pickler checks NEWOBJ's class against it
        return self.cls

    def __reduce__(self):
        return copyreg.__newobj__, (self.cls, ), self.state


def builtin(name: str) -> Call:
    """``builtins.<name>``, reached through ``getattr(getattr, '__self__')``
    (the builtins module) as a pickle allowed to call getattr can."""
    return Call(getattr, Call(getattr, getattr, '__self__'), name)


def touch_code(marker: Path) -> str:
    """Python that creates ``marker``."""
    return f'open({str(marker)!r}, "w").close()'


def _history_state(**extra: Any) -> dict:
    """A HistoryBuffer state as MMEngine writes it, plus ``extra``."""
    state = dict(max_length=10,
                 _log_history=np.array([0.5]),
                 _count_history=np.array([1]))
    state.update(extra)
    return state


def _deepcopy_runs(code: str) -> Call:
    """A ``__reduce_ex__`` for ``copy.deepcopy``: ``{4: (exec, (code,))}.get``
    returns ``(exec, (code,))``, which deepcopy then calls."""
    return Call(getattr, {4: (builtin('exec'), (code, ))}, 'get')


def _nested(payload: Any, depth: int) -> Any:
    """``payload`` inside ``depth`` levels of dicts, lists, tuples."""
    for level in range(depth):
        wrap = (dict(level=level, inner=payload), [0, payload], (payload, 'x'))
        payload = wrap[level % 3]
    return payload


@dataclass
class Crafted:
    """One crafted checkpoint.

    Attributes:
        name (str): Short name (also the file stem).
        path (Path): The file.
        marker (Path): Created if the payload ever runs.
        what (str): What it tries.
    """
    name: str
    path: Path
    marker: Path
    what: str


def _base_checkpoint() -> dict:
    """Weights and a message hub like an MMEngine checkpoint's."""
    return dict(meta=dict(epoch=1, iter=4, seed=0),
                state_dict=OrderedDict(weight=torch.zeros(2, 2)),
                message_hub=dict(log_scalars={},
                                 runtime_info=dict(epoch=1, iter=4),
                                 resumed_keys=dict(epoch=True, iter=True)))


def _payloads(marker: Path) -> Dict[str, tuple]:
    """name -> (where, payload, what). ``where`` is ``'meta'`` (put in
    ``meta['payload']``) or ``'runtime_info'`` (in the message hub)."""
    code = touch_code(marker)
    touch = f'touch {marker}'
    encode = codecs.encode  # allowed by torch: a callable to inject
    hb = HistoryBuffer
    return {
        # -- the getattr / __self__ gadget of issue 20 -------------------
        'getattr_self_gadget':
        ('runtime_info',
         Built(hb, _history_state(__reduce_ex__=_deepcopy_runs(code))),
         'HistoryBuffer whose __reduce_ex__ is {4: (exec, ...)}.get, '
         'builtins reached by getattr(getattr, "__self__")'),
        'getattr_exec_call': ('meta', Call(builtin('exec'), code),
                              'exec(code) through getattr(builtins, "exec")'),
        'getattr_builtins_module': ('meta', Call(getattr, getattr, '__self__'),
                                    'the builtins module as a value'),
        'getattr_dunder_class':
        ('meta', Call(getattr, (), '__class__'), 'getattr((), "__class__")'),
        # -- attribute injection into HistoryBuffer ----------------------
        'history_deepcopy_attr':
        ('runtime_info', Built(hb, _history_state(__deepcopy__=encode)),
         'HistoryBuffer state with __deepcopy__'),
        'history_reduce_ex_attr': ('runtime_info',
                                   Built(hb,
                                         _history_state(__reduce_ex__=encode)),
                                   'HistoryBuffer state with __reduce_ex__'),
        'history_extra_key': ('meta', Built(hb, _history_state(update=encode)),
                              'HistoryBuffer state with an extra key'),
        'history_slot_state':
        ('meta', Built(hb, (_history_state(), {
            '__reduce_ex__': encode
        })), 'HistoryBuffer (state, slotstate) setting __reduce_ex__'),
        'history_statistics_poison':
        ('meta',
         Built(hb,
               _history_state(statistics_methods={'mean': builtin('exec')})),
         'HistoryBuffer statistics_methods mean -> exec'),
        'history_statistics_renamed':
        ('meta',
         Built(
             hb,
             _history_state(
                 statistics_methods={'evil': Call(getattr, hb, 'mean')})),
         'HistoryBuffer statistics_methods with a renamed method'),
        'history_statistic_elsewhere':
        ('meta', Call(getattr, hb, 'mean'),
         'getattr(HistoryBuffer, "mean") outside a HistoryBuffer'),
        'history_max_length_str':
        ('meta', Built(hb, _history_state(max_length='10')),
         'HistoryBuffer max_length of the wrong type'),
        'history_list_history':
        ('meta', Built(hb, _history_state(_log_history=[0.5])),
         'HistoryBuffer history as a list, not an array'),
        'history_object_array':
        ('meta',
         Built(hb, _history_state(_log_history=np.array([0.5], dtype=object))),
         'HistoryBuffer history of object dtype'),
        'history_length_mismatch':
        ('meta', Built(hb, _history_state(_count_history=np.array([]))),
         'HistoryBuffer histories of different lengths'),
        'history_in_runtime_info': ('runtime_info', HistoryBuffer(
            [0.5],
            [1]), 'a HistoryBuffer in runtime_info (deep-copied on resume)'),
        # -- __reduce__ of builtins and friends --------------------------
        'reduce_exec': ('meta', Call(exec, code), 'exec via __reduce__'),
        'reduce_eval': ('meta', Call(eval, code), 'eval via __reduce__'),
        'reduce_os_system': ('meta', Call(os.system,
                                          touch), 'os.system via __reduce__'),
        'reduce_import': ('meta', Call(__import__,
                                       'os'), '__import__ via __reduce__'),
        'getattr_exec_value':
        ('runtime_info', builtin('exec'),
         'exec itself as a value, from getattr(builtins, "exec")'),
        # -- payloads hidden deep inside containers ----------------------
        'nested_os_system': ('meta', _nested(Call(os.system, touch), 12),
                             'os.system 12 containers deep in meta'),
        'nested_gadget_runtime_info':
        ('runtime_info',
         _nested(Built(hb, _history_state(__reduce_ex__=_deepcopy_runs(code))),
                 9), 'the getattr gadget 9 containers deep in runtime_info'),
        'nested_very_deep': ('meta', _nested([1], 300),
                             'containers nested 300 deep'),
        # -- numpy stand-ins given bogus data ----------------------------
        'numpy_object_scalar': ('meta',
                                Call(_SCALAR, np.dtype(object), b'\0' * 8),
                                'a numpy scalar of object dtype'),
        'numpy_scalar_short_bytes': ('meta',
                                     Call(_SCALAR, np.dtype('f8'), b'\0' * 3),
                                     'a float64 scalar of 3 bytes'),
        'numpy_bool_scalar_2': ('meta', Call(_SCALAR, np.dtype('?'), b'\2'),
                                'a bool scalar of value 2'),
        'numpy_dtype_fields': ('meta',
                               Reduced(np.dtype, ('f8', False, True),
                                       (3, '<', None, ('a', ), {
                                           'a': 1
                                       }, -1, -1, 0)),
                               'a dtype state with fields'),
        'numpy_dtype_injected': ('meta',
                                 Reduced(np.dtype, ('f8', False, True),
                                         {'__reduce_ex__': encode}),
                                 'a dtype BUILD setting __reduce_ex__'),
        'numpy_array_wrong_length':
        ('meta',
         Reduced(_RECONSTRUCT, (np.ndarray, (0, ), b'b'),
                 (1, (4, ), np.dtype('f8'), False, b'\0' * 8)),
         'an array of 4 float64 with 8 bytes of data'),
        'numpy_array_other_subtype':
        ('meta',
         Reduced(_RECONSTRUCT, (OrderedDict, (0, ), b'b'),
                 (1, (1, ), np.dtype('f8'), False, b'\0' * 8)),
         'numpy _reconstruct of another class'),
        'numpy_array_injected': ('meta',
                                 Reduced(_RECONSTRUCT,
                                         (np.ndarray, (0, ), b'b'),
                                         {'__deepcopy__': encode}),
                                 'an array BUILD setting __deepcopy__'),
        # -- attributes injected into classes torch allows by default ----
        'ordered_dict_deepcopy_attr':
        ('runtime_info', Reduced(OrderedDict, (), {'__deepcopy__': encode}),
         'an OrderedDict with a __deepcopy__ attribute'),
        'counter_reduce_ex_attr': ('runtime_info',
                                   Built(Counter, {'__reduce_ex__': encode}),
                                   'a Counter with a __reduce_ex__ attribute'),
        'parameter_with_state':
        ('meta',
         Call(torch._utils._rebuild_parameter_with_state, torch.zeros(2),
              False, OrderedDict(), {'__deepcopy__': encode}),
         'a Parameter with a __deepcopy__ attribute'),
        'parameter_backward_hook': ('meta',
                                    Call(torch._utils._rebuild_parameter,
                                         torch.zeros(2), False,
                                         OrderedDict({0: encode})),
                                    'a Parameter with a backward hook'),
        'list_cycle': ('meta', _cycle(), 'a list that contains itself'),
    }


def _cycle() -> list:
    items: List[Any] = [1]
    items.append(items)
    return items


def build_corpus(folder: Path,
                 base: Optional[Callable[[], dict]] = None) -> List[Crafted]:
    """Write every crafted checkpoint into ``folder``.

    Args:
        folder (Path): Where the files (and any marker) go.
        base (callable, optional): Makes the checkpoint each payload is
            put in (default: a small MMEngine-like checkpoint).

    Returns:
        list[Crafted]: One per file, in a fixed order.
    """
    folder.mkdir(parents=True, exist_ok=True)
    corpus = []
    for name in _payloads(folder / 'MARKER'):
        marker = folder / f'MARKER_{name}'
        where, payload, what = _payloads(marker)[name]
        checkpoint = (base or _base_checkpoint)()
        if where == 'runtime_info':
            checkpoint['message_hub']['runtime_info']['payload'] = payload
        else:
            checkpoint['meta']['payload'] = payload
        path = folder / f'{name}.pth'
        torch.save(checkpoint, path, pickle_module=pickle)
        corpus.append(Crafted(name, path, marker, what))
    return corpus


def meta_config_checkpoint(real: dict, path: Path, marker: Path) -> Path:
    """``real`` with ``meta['config']`` = Python creating ``marker``
    (MMEngine's ``Runner.resume`` runs it through ``Config.fromstring``)."""
    checkpoint = dict(real, meta=dict(real['meta']))
    checkpoint['meta']['config'] = touch_code(marker) + '\n'
    torch.save(checkpoint, path)
    return path
