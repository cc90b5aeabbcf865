"""Base class of the memories: pending momentum updates, applied outside
autograd with the features of every rank."""
from typing import List, Optional, Tuple, Union

import torch
from mmengine.dist import all_gather, get_world_size
from mmengine.model import BaseModule

from ..utils import ResizableBufferMixin


def gather_rows(tensor: torch.Tensor) -> torch.Tensor:
    """Concatenate a tensor's rows from all ranks, in rank order.

    Ranks may hold different numbers of rows: sizes are gathered first and
    the rows padded to the largest, then trimmed. Outside distributed
    training the tensor is returned as is.

    Args:
        tensor (Tensor): Shape ``(n_rank, ...)``, same trailing shape and
            dtype on every rank.

    Returns:
        Tensor: Shape ``(sum of n_rank, ...)``.
    """
    if get_world_size() == 1:
        return tensor
    size = torch.tensor([tensor.shape[0]], device=tensor.device)
    sizes = [int(s) for s in all_gather(size)]
    padded = tensor.new_zeros((max(sizes), *tensor.shape[1:]))
    padded[:tensor.shape[0]] = tensor
    gathered = all_gather(padded)
    return torch.cat([rows[:n] for rows, n in zip(gathered, sizes)])


class BaseMemory(ResizableBufferMixin, BaseModule):
    """A non-parametric memory whose bank is updated by momentum.

    The bank is a buffer, so checkpoints hold it; list it in
    :attr:`resizable_buffers` so that checkpoints of another size load.

    Autograd saves the bank for the backward pass of the logits, so the bank
    must not change between a forward and its backward. Subclasses therefore
    never update in ``forward``: they call :meth:`record_pending_update`
    with the (detached) batch features and labels, and
    ``MemoryMomentumHook`` calls :meth:`apply_pending_update` after the
    optimizer step. That gathers the pending features and labels of every
    rank, in rank order, and hands them to :meth:`_momentum_update` under
    ``torch.no_grad()``, so every rank applies the same update and the
    memories stay identical without broadcasting buffers.

    Every rank must call :meth:`apply_pending_update` at the same time (a
    collective operation under DDP).

    Subclasses implement ``forward``, :meth:`init_from_features` and
    :meth:`_momentum_update`.
    """

    def __init__(self, init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self._pending: List[Tuple[torch.Tensor, torch.Tensor]] = []

    @property
    def has_pending_update(self) -> bool:
        """Whether features were recorded since the last update."""
        return len(self._pending) > 0

    def record_pending_update(self, feats: torch.Tensor,
                              labels: torch.Tensor) -> None:
        """Remember a batch for the next :meth:`apply_pending_update`.

        Several batches (gradient accumulation, several views) accumulate in
        call order.

        Args:
            feats (Tensor): Batch features, shape ``(B, D)``; detached here.
            labels (Tensor): Their labels, shape ``(B,)``.
        """
        self._pending.append((feats.detach(), labels.detach()))

    def clear_pending_update(self) -> None:
        """Drop the recorded batches without applying them."""
        self._pending = []

    def apply_pending_update(self) -> None:
        """Apply the recorded batches of all ranks, then forget them.

        A no-op when nothing was recorded.
        """
        if not self._pending:
            return
        feats = torch.cat([f for f, _ in self._pending])
        labels = torch.cat([y for _, y in self._pending])
        self._pending = []
        feats, labels = gather_rows(feats), gather_rows(labels)
        with torch.no_grad():
            self._momentum_update(feats, labels)

    def init_from_features(self, features: torch.Tensor,
                           labels: torch.Tensor) -> None:
        """(Re-)initialise the bank from the features of the training set.

        Args:
            features (Tensor): Shape ``(N, D)``, dataset order.
            labels (Tensor): Pseudo labels, shape ``(N,)``; ``-1`` marks
                outliers.
        """
        raise NotImplementedError

    def _momentum_update(self, feats: torch.Tensor,
                         labels: torch.Tensor) -> None:
        """Update the bank in place; runs under ``torch.no_grad()``.

        Args:
            feats (Tensor): Features of all ranks, shape ``(B_total, D)``,
                rank order then batch order.
            labels (Tensor): Their labels, shape ``(B_total,)``.
        """
        raise NotImplementedError
