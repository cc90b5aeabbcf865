"""The stand-ins accept exactly what MMEngine and numpy write."""
import io
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer

import mmreid_unsup  # noqa: F401  (registers the safe loaders)
from mmreid_unsup.utils import UnsafeCheckpointError, safe_torch_load
from mmreid_unsup.utils.checkpoint_stand_ins import (
    STAND_INS, DtypeRecord, HistoryBufferRecord, NdarrayRecord,
    RefusedPickleObject, history_buffer_statistic, numpy_scalar,
    reconstruct_array)


def _round_trip(obj):
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return safe_torch_load(buffer)


@pytest.mark.parametrize(
    'array',
    [
        np.arange(6, dtype=np.float64).reshape(2, 3),
        np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)),
        np.arange(4, dtype='>i4'),
        np.array([True, False]),
        np.zeros((0, 3), dtype=np.int16),
        np.array(2.5),
        np.random.RandomState(0).get_state()[1],  # uint32 MT19937 key
        np.arange(3, dtype=np.uint8),
        np.array([np.nan, np.inf], dtype=np.float16),
    ])
def test_plain_arrays_round_trip(array):
    got = _round_trip({'a': array})['a']
    assert type(got) is np.ndarray and got.dtype == array.dtype
    assert got.shape == array.shape and got.tobytes() == array.tobytes()
    assert got.flags.f_contiguous == array.flags.f_contiguous
    assert got.flags.writeable


@pytest.mark.parametrize('scalar', [
    np.float64(0.1),
    np.float32(-1.5),
    np.int64(-3),
    np.uint32(7),
    np.bool_(True),
    np.int8(-1),
    np.float16(2.0)
])
def test_plain_scalars_round_trip(scalar):
    got = _round_trip({'s': scalar})['s']
    assert type(got) is type(scalar) and got == scalar


def test_numpy_random_state_tuple_round_trips():
    state = np.random.RandomState(3).get_state()
    got = _round_trip({'state': state})['state']
    assert got[0] == 'MT19937' and np.array_equal(got[1], state[1])
    assert got[1:] and [type(x)
                        for x in got[2:]] == [type(x) for x in state[2:]]


def test_history_buffer_rebuilt_through_its_constructor():
    history = HistoryBuffer(max_length=3)
    for value in (1, 2, 3, 4):
        history.update(value)
    got = _round_trip({'h': history})['h']
    assert type(got) is HistoryBuffer and got.max_length == 3
    assert got.data[0].tolist() == [2, 3, 4] and got.mean() == 3
    assert 'statistics_methods' not in vars(got)


def test_the_allow_list_is_the_stand_ins_only():
    names = {name for _, name in STAND_INS}
    assert 'builtins.getattr' in names  # mapped to the stand-in, below
    objects = [obj for obj, _ in STAND_INS]
    assert getattr not in objects and HistoryBuffer not in objects
    assert np.dtype not in objects and np.ndarray not in objects
    assert all(
        obj.__module__.endswith('checkpoint_stand_ins') for obj in objects)


def test_the_getattr_stand_in_resolves_the_four_statistics_only():
    assert repr(history_buffer_statistic(HistoryBufferRecord, 'mean')) \
        == 'HistoryBuffer.mean'
    for args in [(getattr, '__self__'), (HistoryBufferRecord, '__setstate__'),
                 (HistoryBufferRecord, 'update'), (HistoryBuffer, 'mean'),
                 (HistoryBufferRecord, 'mean', None)]:
        with pytest.raises(RefusedPickleObject):
            history_buffer_statistic(*args)


def test_records_refuse_arguments_and_second_states():
    for cls in (NdarrayRecord, HistoryBufferRecord):
        with pytest.raises(RefusedPickleObject):
            cls(1)
    dtype = DtypeRecord('f8', False, True)
    dtype.__setstate__((3, '<', None, None, None, -1, -1, 0))
    with pytest.raises(RefusedPickleObject, match='second state'):
        dtype.__setstate__((3, '<', None, None, None, -1, -1, 0))
    with pytest.raises(RefusedPickleObject):
        DtypeRecord('O8', False, True)
    with pytest.raises(RefusedPickleObject, match='without its state'):
        numpy_scalar(DtypeRecord('f8', False, True), b'\0' * 8)
    assert numpy_scalar(dtype, b'\0' * 8) == 0.0
    with pytest.raises(RefusedPickleObject):
        reconstruct_array(NdarrayRecord, (1, ), b'b')
    record = reconstruct_array(NdarrayRecord, (0, ), b'b')
    with pytest.raises(RefusedPickleObject):
        record.__setstate__((1, (2, ), dtype, False, b'\0' * 8))  # 2 x f8


def test_a_half_built_record_in_the_tree_is_refused():
    """NEWOBJ without BUILD leaves an empty record: refused by key path."""

    class Empty:

        @property
        def __class__(self):
            return np.ndarray

        def __reduce__(self):
            import copyreg
            return copyreg.__newobj__, (np.ndarray, )

    buffer = io.BytesIO()
    torch.save({'meta': {'x': Empty()}}, buffer, pickle_module=pickle)
    buffer.seek(0)
    with pytest.raises(UnsafeCheckpointError,
                       match=r"checkpoint\['meta'\]\['x'\] holds a "
                       'numpy.ndarray used without its state'):
        safe_torch_load(buffer)


def test_numpy_1_names_map_to_the_same_stand_ins():
    names = dict((name, obj) for obj, name in STAND_INS)
    assert names['numpy.core.multiarray._reconstruct'] is reconstruct_array
    assert names['numpy.core.multiarray.scalar'] is numpy_scalar
