"""Keep ``torch.load(weights_only=True)`` working for MMEngine checkpoints."""
import builtins

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
