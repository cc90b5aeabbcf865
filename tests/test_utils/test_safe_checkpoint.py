import io
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer

import mmreid_unsup  # noqa: F401  (allow-lists MMEngine's globals)


def _roundtrip(obj):
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def test_mmengine_checkpoint_objects_load_with_weights_only():
    history = HistoryBuffer()
    history.update(1.5)
    obj = dict(
        message_hub=dict(log_scalars={'train/loss': history}),
        seed=np.int64(3),
        lr=np.float64(0.1),
        arr=np.arange(3, dtype=np.float32))
    loaded = _roundtrip(obj)
    assert loaded['message_hub']['log_scalars']['train/loss'].current() == 1.5
    assert loaded['seed'] == 3
    np.testing.assert_array_equal(loaded['arr'], np.arange(3))


class _RunsCode:
    def __reduce__(self):
        import os
        return (os.system, ('echo pwned',))


def test_a_pickle_that_runs_code_is_refused():
    buffer = io.BytesIO()
    torch.save({'evil': _RunsCode()}, buffer, pickle_module=pickle)
    buffer.seek(0)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(buffer, weights_only=True)
