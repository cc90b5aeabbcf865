"""Inert stand-ins for the non-torch objects MMEngine checkpoints pickle.

Besides tensors and plain containers, an MMEngine checkpoint references a
few globals that ``torch.load(weights_only=True)`` refuses by default:

- ``mmengine.logging.history_buffer.HistoryBuffer``:
  :class:`HistoryBufferRecord`;
- ``builtins.getattr`` (``getattr(HistoryBuffer, 'min')`` and the other
  statistics): :func:`history_buffer_statistic`;
- ``numpy.dtype``: :class:`DtypeRecord`;
- ``numpy.ndarray``: :class:`NdarrayRecord`;
- ``numpy._core.multiarray._reconstruct``: :func:`reconstruct_array`;
- ``numpy._core.multiarray.scalar``: :func:`numpy_scalar`;
- ``builtins.bytes`` (``b''``, the data of an empty array):
  :func:`empty_bytes`.

(``numpy.core.multiarray`` names, as numpy 1.x writes them, map to the same
functions.) :data:`STAND_INS` maps each name to its stand-in, in the
``(object, 'qualified.name')`` form ``torch.serialization.safe_globals``
takes, so a checkpoint's reference to the real object gets the stand-in
instead. None of the real objects, and no general-purpose callable, is
ever reachable from a pickle.

Each stand-in accepts exactly the arguments and state MMEngine and numpy
write (exact keys, exact types, sizes matching) and raises
:class:`RefusedPickleObject` for anything else, so a crafted file cannot
inject attributes, methods or object dtypes. The records hold validated
plain data only; :mod:`.checkpoint_contents` turns them into real
``numpy.ndarray`` / ``HistoryBuffer`` objects after unpickling.
"""
import math
import pickle
from typing import Any, Tuple

import numpy as np
from mmengine.logging.history_buffer import HistoryBuffer

__all__ = [
    'RefusedPickleObject', 'DtypeRecord', 'NdarrayRecord',
    'HistoryBufferRecord', 'StatisticMethodRef', 'reconstruct_array',
    'numpy_scalar', 'empty_bytes', 'history_buffer_statistic', 'STAND_INS'
]

#: numpy dtype codes (as numpy pickles them) that may be loaded: booleans,
#: integers and floats, mapped to the byte orders numpy writes for them.
PLAIN_DTYPE_CODES = {
    **{
        code: ('|', )
        for code in ('b1', 'i1', 'u1')
    },
    **{
        code: ('<', '>')
        for code in ('i2', 'i4', 'i8', 'u2', 'u4', 'u8', 'f2', 'f4', 'f8')
    },
}

#: The statistics HistoryBuffer pickles as ``getattr(HistoryBuffer, name)``.
HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')

#: The most array dimensions accepted (numpy's own limit is 64).
MAX_NDIM = 64


class RefusedPickleObject(pickle.UnpicklingError):
    """A stand-in refused the arguments or state a pickle gave it.

    ``torch.load`` turns it into its "Weights only load failed" error,
    which :func:`~mmreid_unsup.utils.safe_torch_load` reports as an
    :class:`~mmreid_unsup.utils.UnsafeCheckpointError` naming the file.
    """


def _describe(value: Any) -> str:
    """A short description of a value from a pickle, for error messages."""
    text = repr(value) if isinstance(value, (str, bytes, int, float, bool,
                                             type(None))) else ''
    if len(text) > 60:
        text = text[:57] + '...'
    return f'{type(value).__name__} {text}'.strip()


def _is_int(value: Any, expected: int) -> bool:
    """``value`` is the plain ``int`` ``expected`` (not a bool or another
    number type that compares equal)."""
    return type(value) is int and value == expected


class DtypeRecord:
    """Stands in for ``numpy.dtype`` while unpickling: plain numeric only.

    numpy pickles ``np.dtype('f8')`` as ``numpy.dtype('f8', False, True)``
    followed by a BUILD with the state ``(3, '<', None, None, None, -1, -1,
    0)``. Both steps are checked exactly; the record then holds the real
    :class:`numpy.dtype`.

    Args:
        *args: ``(code, False, True)``; ``code`` one of
            :data:`PLAIN_DTYPE_CODES`.

    Raises:
        RefusedPickleObject: Any other arguments (object, string, void,
            datetime, structured dtypes, ...).
    """
    __slots__ = ('_code', '_dtype')

    def __new__(cls, *args: Any) -> 'DtypeRecord':
        if (len(args) != 3 or type(args[0]) is not str
                or args[0] not in PLAIN_DTYPE_CODES or args[1] is not False
                or args[2] is not True):
            shown = ', '.join(_describe(arg) for arg in args)
            raise RefusedPickleObject(
                f'refused numpy.dtype({shown}): only boolean, integer and '
                f'float dtypes load ({", ".join(PLAIN_DTYPE_CODES)})')
        record = object.__new__(cls)
        record._code = args[0]
        record._dtype = None
        return record

    def __setstate__(self, state: Any) -> None:
        """Check numpy's dtype state and make the real dtype.

        Raises:
            RefusedPickleObject: Set twice, or a state other than
                ``(3, byteorder, None, None, None, -1, -1, 0)``.
        """
        orders = PLAIN_DTYPE_CODES[self._code]
        if self._dtype is not None:
            raise RefusedPickleObject(
                f'refused a second state for numpy.dtype({self._code!r})')
        if (type(state) is not tuple or len(state) != 8
                or not _is_int(state[0], 3) or type(state[1]) is not str
                or state[1] not in orders or any(item is not None
                                                 for item in state[2:5])
                or not _is_int(state[5], -1) or not _is_int(state[6], -1)
                or not _is_int(state[7], 0)):
            raise RefusedPickleObject(
                f'refused the state {_describe(state)} of numpy.dtype('
                f'{self._code!r}): expected (3, byteorder in {orders}, None, '
                'None, None, -1, -1, 0), a plain dtype without fields, '
                'subarrays or flags')
        dtype = np.dtype(self._code)
        self._dtype = dtype.newbyteorder(state[1]) if state[1] != '|' \
            else dtype

    @property
    def dtype(self) -> np.dtype:
        """The real dtype.

        Raises:
            RefusedPickleObject: The pickle used the record before its
                state was set.
        """
        if self._dtype is None:
            raise RefusedPickleObject(
                f'refused numpy.dtype({self._code!r}) used without its state')
        return self._dtype


class NdarrayRecord:
    """Stands in for ``numpy.ndarray`` while unpickling: plain numeric data.

    numpy pickles an array as ``_reconstruct(ndarray, (0,), b'b')`` (see
    :func:`reconstruct_array`) followed by a BUILD with the state ``(1,
    shape, dtype, is_fortran, raw_bytes)``. The state is checked (a
    :class:`DtypeRecord`, a shape of non-negative ints, raw bytes of exactly
    ``prod(shape) * itemsize``, booleans 0 or 1) and copied into a new
    array owned by the record.

    Raises:
        RefusedPickleObject: Created with arguments.
    """
    __slots__ = ('_array', )

    def __new__(cls, *args: Any) -> 'NdarrayRecord':
        if args:
            raise RefusedPickleObject(
                f'refused numpy.ndarray created with {len(args)} arguments')
        record = object.__new__(cls)
        record._array = None
        return record

    def __setstate__(self, state: Any) -> None:
        """Check numpy's array state and copy the data.

        Raises:
            RefusedPickleObject: Set twice, or any state but a plain
                numeric array whose byte length matches its shape.
        """
        if self._array is not None:
            raise RefusedPickleObject(
                'refused a second state for a numpy.ndarray')
        if type(state) is not tuple or len(state) != 5 \
                or not _is_int(state[0], 1):
            raise RefusedPickleObject(
                f'refused the numpy.ndarray state {_describe(state)}: '
                'expected (1, shape, dtype, is_fortran, raw bytes)')
        _, shape, dtype_record, is_fortran, raw = state
        shape = _checked_shape(shape)
        if type(dtype_record) is not DtypeRecord:
            raise RefusedPickleObject(
                f'refused a numpy.ndarray of dtype {_describe(dtype_record)}'
                ': expected a plain numpy.dtype')
        dtype = dtype_record.dtype
        if type(is_fortran) is not bool:
            raise RefusedPickleObject(
                'refused a numpy.ndarray whose is_fortran flag is '
                f'{_describe(is_fortran)}')
        _check_raw(raw, dtype, math.prod(shape), 'numpy.ndarray')
        array = np.frombuffer(raw, dtype=dtype)
        self._array = array.reshape(
            shape, order='F' if is_fortran else 'C').copy(order='K')

    @property
    def array(self) -> np.ndarray:
        """The array (a copy owned by the record).

        Raises:
            RefusedPickleObject: The pickle used the record before its
                state was set.
        """
        if self._array is None:
            raise RefusedPickleObject(
                'refused a numpy.ndarray used without its state')
        return self._array


def _checked_shape(shape: Any) -> Tuple[int, ...]:
    """An array shape from a pickle: a tuple of at most :data:`MAX_NDIM`
    non-negative ints."""
    if (type(shape) is not tuple or len(shape) > MAX_NDIM
            or any(type(size) is not int or size < 0 for size in shape)):
        raise RefusedPickleObject(
            f'refused the numpy.ndarray shape {_describe(shape)}: expected '
            f'a tuple of at most {MAX_NDIM} non-negative ints')
    return shape


def _check_raw(raw: Any, dtype: np.dtype, count: int, what: str) -> None:
    """``raw`` holds exactly ``count`` values of ``dtype`` (booleans 0/1)."""
    if type(raw) is not bytes:
        raise RefusedPickleObject(
            f'refused {what} data of type {type(raw).__name__}: expected '
            'bytes')
    if len(raw) != count * dtype.itemsize:
        raise RefusedPickleObject(
            f'refused {what} data of {len(raw)} bytes: {count} '
            f'{dtype} value{"" if count == 1 else "s"} take '
            f'{count * dtype.itemsize}')
    if dtype.kind == 'b' and raw.translate(None, b'\x00\x01'):
        raise RefusedPickleObject(
            f'refused {what} booleans other than 0 and 1')


def reconstruct_array(*args: Any) -> NdarrayRecord:
    """Stands in for ``numpy._core.multiarray._reconstruct``.

    Args:
        *args: Exactly what numpy pickles, ``(ndarray, (0,), b'b')``, where
            ``ndarray`` is the stand-in class :class:`NdarrayRecord`.

    Returns:
        NdarrayRecord: An empty record; the pickle's BUILD sets its state.

    Raises:
        RefusedPickleObject: Any other arguments (another subtype, shape
            or dtype).
    """
    if (len(args) != 3 or args[0] is not NdarrayRecord
            or type(args[1]) is not tuple or len(args[1]) != 1
            or not _is_int(args[1][0], 0) or type(args[2]) is not bytes
            or args[2] != b'b'):
        shown = ', '.join(_describe(arg) for arg in args)
        raise RefusedPickleObject(
            f'refused numpy _reconstruct({shown}): expected (numpy.ndarray, '
            "(0,), b'b')")
    return NdarrayRecord()


def numpy_scalar(*args: Any) -> np.generic:
    """Stands in for ``numpy._core.multiarray.scalar``.

    Args:
        *args: ``(dtype, raw_bytes)``: a :class:`DtypeRecord` and exactly
            ``itemsize`` bytes (0 or 1 for a boolean).

    Returns:
        numpy.generic: The real numpy scalar (``np.float64(0.5)``, ...).

    Raises:
        RefusedPickleObject: Any other arguments.
    """
    if len(args) != 2 or type(args[0]) is not DtypeRecord:
        shown = ', '.join(_describe(arg) for arg in args)
        raise RefusedPickleObject(
            f'refused numpy scalar({shown}): expected (plain numpy.dtype, '
            'bytes)')
    dtype = args[0].dtype
    _check_raw(args[1], dtype, 1, f'numpy {dtype} scalar')
    return np.frombuffer(args[1], dtype=dtype)[0]


def empty_bytes(*args: Any) -> bytes:
    """Stands in for ``builtins.bytes``: pickle writes ``b''`` (the data of
    an empty array) as ``bytes()``.

    Args:
        *args: None.

    Returns:
        bytes: ``b''``.

    Raises:
        RefusedPickleObject: Called with arguments (``bytes(10**12)``...).
    """
    if args:
        raise RefusedPickleObject(
            f'refused bytes() with {len(args)} arguments: only the empty '
            "bytes b'' is written that way")
    return b''


class StatisticMethodRef:
    """What ``getattr(HistoryBuffer, 'mean')`` unpickles to: a name only.

    Not allow-listed itself, so a pickle can only get one from
    :func:`history_buffer_statistic`, and only a
    :class:`HistoryBufferRecord` accepts it.

    Args:
        name (str): One of :data:`HISTORY_BUFFER_STATISTICS`.
    """
    __slots__ = ('name', )

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f'HistoryBuffer.{self.name}'


def history_buffer_statistic(*args: Any) -> StatisticMethodRef:
    """Stands in for ``builtins.getattr`` while unpickling.

    ``HistoryBuffer.__getstate__`` stores its statistics methods, which
    pickle as ``getattr(HistoryBuffer, 'min')`` and so on. This is the only
    use accepted: the owner must be the HistoryBuffer stand-in and the name
    one of :data:`HISTORY_BUFFER_STATISTICS`. No attribute is looked up.

    Args:
        *args: ``(HistoryBuffer, name)``.

    Returns:
        StatisticMethodRef: The method's name.

    Raises:
        RefusedPickleObject: Any other owner or name (``getattr(getattr,
            '__self__')``, ``getattr(builtins, 'exec')``, ...).
    """
    if (len(args) == 2 and args[0] is HistoryBufferRecord
            and type(args[1]) is str and args[1] in HISTORY_BUFFER_STATISTICS):
        return StatisticMethodRef(args[1])
    shown = ', '.join(
        'HistoryBuffer' if arg is HistoryBufferRecord else _describe(arg)
        for arg in args)
    raise RefusedPickleObject(
        f'refused getattr({shown}): a checkpoint may only name the '
        f'HistoryBuffer statistics {HISTORY_BUFFER_STATISTICS}')


class HistoryBufferRecord:
    """Stands in for MMEngine's ``HistoryBuffer`` while unpickling.

    ``HistoryBuffer.__setstate__`` would copy any key of the state into the
    instance and into the class's statistics table; this record accepts the
    exact state ``HistoryBuffer.__getstate__`` writes and nothing else:

    - ``max_length``: an ``int`` >= 1;
    - ``_log_history``, ``_count_history``: 1-D plain numeric arrays of the
      same length, at most ``max_length``;
    - ``statistics_methods`` (optional): names of the default statistics
      mapped to themselves (:func:`history_buffer_statistic`).

    :meth:`to_history_buffer` builds the real buffer through its
    constructor.

    Raises:
        RefusedPickleObject: Created with arguments.
    """
    __slots__ = ('log_history', 'count_history', 'max_length', '_built')

    _REQUIRED = ('max_length', '_log_history', '_count_history')
    _OPTIONAL = ('statistics_methods', )

    def __new__(cls, *args: Any) -> 'HistoryBufferRecord':
        if args:
            raise RefusedPickleObject(
                f'refused HistoryBuffer created with {len(args)} arguments')
        record = object.__new__(cls)
        record._built = False
        return record

    def __setstate__(self, state: Any) -> None:
        """Check the state ``HistoryBuffer.__getstate__`` writes.

        Raises:
            RefusedPickleObject: Set twice, missing or extra keys (such as
                ``__deepcopy__`` or ``__reduce_ex__``), wrong types or
                lengths.
        """
        if self._built:
            raise RefusedPickleObject(
                'refused a second state for a HistoryBuffer')
        if type(state) is not dict:
            raise RefusedPickleObject(
                f'refused the HistoryBuffer state {_describe(state)}: '
                'expected a dict')
        keys = list(state)
        extra = [
            key for key in keys
            if type(key) is not str or key not in self._REQUIRED +
            self._OPTIONAL
        ]
        missing = [key for key in self._REQUIRED if key not in state]
        if extra or missing:
            raise RefusedPickleObject(
                'refused a HistoryBuffer state with ' +
                (f'the unexpected keys {[_describe(k) for k in extra]}'
                 if extra else f'the keys {missing} missing') +
                f': expected exactly {list(self._REQUIRED)} (and '
                f'optionally {list(self._OPTIONAL)})')
        max_length = state['max_length']
        if type(max_length) is not int or max_length < 1:
            raise RefusedPickleObject(
                'refused a HistoryBuffer whose max_length is '
                f'{_describe(max_length)}: expected an int >= 1')
        log_history = _history_array(state['_log_history'], '_log_history')
        count_history = _history_array(state['_count_history'],
                                       '_count_history')
        if len(log_history) != len(count_history) \
                or len(log_history) > max_length:
            raise RefusedPickleObject(
                f'refused a HistoryBuffer of {len(log_history)} values, '
                f'{len(count_history)} counts and max_length {max_length}')
        methods = state.get('statistics_methods', {})
        if type(methods) is not dict or any(
                type(name) is not str or type(ref) is not StatisticMethodRef
                or ref.name != name for name, ref in methods.items()):
            raise RefusedPickleObject(
                'refused HistoryBuffer statistics_methods '
                f'{_describe(methods)}: expected names of '
                f'{HISTORY_BUFFER_STATISTICS} mapped to those methods')
        self.max_length = max_length
        self.log_history = log_history
        self.count_history = count_history
        self._built = True

    def to_history_buffer(self) -> HistoryBuffer:
        """The real ``HistoryBuffer``, built by its constructor.

        Returns:
            HistoryBuffer: With copies of the validated histories.

        Raises:
            RefusedPickleObject: The record never got its state.
        """
        if not self._built:
            raise RefusedPickleObject(
                'refused a HistoryBuffer used without its state')
        return HistoryBuffer(self.log_history, self.count_history,
                             self.max_length)


def _history_array(value: Any, key: str) -> np.ndarray:
    """A HistoryBuffer history: a 1-D boolean, integer or float array."""
    if type(value) is not NdarrayRecord:
        raise RefusedPickleObject(
            f'refused a HistoryBuffer whose {key} is {_describe(value)}: '
            'expected a numpy array')
    array = value.array
    if array.ndim != 1:
        raise RefusedPickleObject(
            f'refused a HistoryBuffer whose {key} has shape {array.shape}: '
            'expected one dimension')
    return array


#: ``(stand-in, qualified name)`` pairs for ``torch.serialization``'s
#: ``safe_globals``: the only globals a checkpoint may name besides torch's
#: own defaults.
STAND_INS = [
    (HistoryBufferRecord, 'mmengine.logging.history_buffer.HistoryBuffer'),
    (history_buffer_statistic, 'builtins.getattr'),
    (DtypeRecord, 'numpy.dtype'),
    (NdarrayRecord, 'numpy.ndarray'),
    (reconstruct_array, 'numpy._core.multiarray._reconstruct'),
    (reconstruct_array, 'numpy.core.multiarray._reconstruct'),
    (numpy_scalar, 'numpy._core.multiarray.scalar'),
    (numpy_scalar, 'numpy.core.multiarray.scalar'),
    (empty_bytes, 'builtins.bytes'),
]
