"""Apply the memories' momentum updates after each optimizer step."""
from typing import Optional, Sequence

from mmengine.hooks import Hook

from mmreid_unsup.registry import HOOKS
from ..contracts import MemoryOwner
from ..feature_extraction import unwrap_model


@HOOKS.register_module()
class MemoryMomentumHook(Hook):
    """The one place where memory banks are updated.

    During the forward pass each memory records the batch's features and
    labels as its pending update; this hook applies it after the optimizer
    step (outside autograd, so the in-place change of the bank cannot break
    the backward pass). Each memory all-gathers the pending features and
    labels from every rank before the update, so all ranks apply the same
    update and their banks stay identical without ``broadcast_buffers``.

    The model is a ``MemoryOwner`` and its memories ``PendingUpdateMemory``
    (:mod:`mmreid_unsup.engine.contracts`).
    """

    priority = 'NORMAL'

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[Sequence] = None) -> None:
        """Apply every memory's pending update."""
        model: MemoryOwner = unwrap_model(runner)
        for memory in model.memories():
            memory.apply_pending_update()
