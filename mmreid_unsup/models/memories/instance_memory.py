"""Memory of one entry per training instance (SCL, SpCL/ECN-style)."""
from typing import Optional, Union

import torch
import torch.nn.functional as F

from mmreid_unsup.registry import MODELS
from .base_memory import BaseMemory, gather_rows


@MODELS.register_module()
class InstanceMemory(BaseMemory):
    """One L2-normalised entry per training image, updated by momentum.

    The bank has shape ``(N, D)``, or ``(N, S, D)`` with ``num_parts=S``
    (one unit vector per stripe or patch, each normalised separately). It is
    filled by :meth:`init_from_features` (``init='features'``) or set to
    zeros (``init='zeros'``, SCL's mixture memory).

    ``forward`` only computes similarities; what updates the bank is chosen
    by the caller with :meth:`record_pending_update`, because the entries a
    feature is compared with (all candidates) and the entries it moves (its
    positives) differ. After the optimizer step ``MemoryMomentumHook``
    applies every recorded batch::

        v_y <- normalize(m * v_y + (1 - m) * f)

    for each row ``f`` and each index ``y`` of that row's labels: a ``(B,)``
    label vector moves one entry per row (its own), a ``(B, K)`` matrix moves
    ``K`` entries per row. The order is SCL's reference backward pass: the
    recorded batches one after the other, within a batch the label columns
    from the last to the first, within a column the rows in order (rank
    order, then batch order, under DDP). With ``m = 0.5`` this is SCL's
    ``normalize((v + f) / 2)``. Negative labels are skipped. Features are
    used as given (not re-normalised), as in the reference, where the
    concatenated stripes have norm ``sqrt(S)``.

    Args:
        feat_dim (int): ``D``, the dimension of an entry (of one part).
        num_parts (int, optional): ``S``; None for a ``(N, D)`` bank.
            Defaults to None.
        momentum (float): ``m``, the weight of the old entry. Defaults to
            0.5 (SCL).
        init (str): ``'features'`` or ``'zeros'``. Defaults to
            ``'features'``.
        init_cfg (dict, optional): MMEngine init config. Defaults to None.
    """

    resizable_buffers = ('bank', )
    inits = ('features', 'zeros')

    def __init__(self,
                 feat_dim: int,
                 num_parts: Optional[int] = None,
                 momentum: float = 0.5,
                 init: str = 'features',
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(
                f'InstanceMemory: momentum must be in [0, 1], got {momentum}')
        if init not in self.inits:
            raise ValueError(f'InstanceMemory: init must be one of '
                             f'{self.inits}, got {init!r}')
        if num_parts is not None and num_parts < 1:
            raise ValueError(
                f'InstanceMemory: num_parts must be >= 1, got {num_parts}')
        self.feat_dim = feat_dim
        self.num_parts = num_parts
        self.momentum = momentum
        self.init = init
        self.bank: torch.Tensor
        self.register_buffer('bank', torch.zeros(0, *self.entry_shape))

    @property
    def entry_shape(self) -> tuple:
        """Shape of one entry: ``(D,)`` or ``(S, D)``."""
        if self.num_parts is None:
            return (self.feat_dim, )
        return (self.num_parts, self.feat_dim)

    @property
    def num_instances(self) -> int:
        """Number of entries ``N`` (0 before initialisation)."""
        return self.bank.shape[0]

    def _check_feats(self, feats: torch.Tensor, what: str) -> None:
        if tuple(feats.shape[1:]) != self.entry_shape:
            raise ValueError(
                f'InstanceMemory: expected {what} of shape (*, '
                f'{", ".join(map(str, self.entry_shape))}), got '
                f'{tuple(feats.shape)}')

    def init_from_features(self,
                           features: torch.Tensor,
                           labels: Optional[torch.Tensor] = None) -> None:
        """One entry per sample: its normalised feature, or zeros.

        Any pending update is dropped.

        Args:
            features (Tensor): ``(N, D)`` or ``(N, S, D)``, dataset order.
            labels (Tensor, optional): Unused (each sample is its own
                entry); accepted for the :class:`BaseMemory` signature.
        """
        self._check_feats(features, 'features')
        self.clear_pending_update()
        features = features.detach().to(
            device=self.bank.device, dtype=self.bank.dtype)
        if self.init == 'zeros':
            self.bank = torch.zeros_like(features)
        else:
            self.bank = F.normalize(features, dim=-1)

    def forward(self,
                feats: torch.Tensor,
                indices: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Dot products of the features with memory entries.

        With parts, the dot product sums over the parts. Nothing is
        recorded for the momentum update (see the class docstring).

        Args:
            feats (Tensor): ``(B, D)`` or ``(B, S, D)``, used as given.
            indices (Tensor, optional): ``(B, K)`` entries to compare each
                row with. None compares with the whole bank.

        Returns:
            Tensor: ``(B, K)``, or ``(B, N)`` without ``indices``.
        """
        if self.num_instances == 0:
            raise RuntimeError(
                'InstanceMemory is empty: initialise it from the training '
                'set first (InstanceMemoryHook)')
        self._check_feats(feats, 'feats')
        bank = self.bank.to(feats.dtype).flatten(1)
        # One matmul with the whole bank, then a gather: memory O(B x N)
        # instead of the O(B x K x D) of gathering the entries.
        sims = feats.flatten(1) @ bank.t()
        if indices is None:
            return sims
        return sims.gather(1, indices.to(sims.device).long())

    def apply_pending_update(self) -> None:
        """Apply the recorded batches of all ranks, one batch at a time.

        Unlike :meth:`BaseMemory.apply_pending_update`, the batches are not
        concatenated: each is gathered and applied in recording order, so
        the order of :meth:`_momentum_update` is the reference's.
        """
        pending, self._pending = self._pending, []
        for feats, labels in pending:
            feats, labels = gather_rows(feats), gather_rows(labels)
            with torch.no_grad():
                self._momentum_update(feats, labels)

    def _momentum_update(self, feats: torch.Tensor,
                         labels: torch.Tensor) -> None:
        self._check_feats(feats, 'feats')
        feats = feats.to(device=self.bank.device, dtype=self.bank.dtype)
        labels = labels.to(self.bank.device).long()
        if labels.dim() == 1:
            labels = labels.unsqueeze(1)
        if labels.shape[0] != feats.shape[0]:
            raise ValueError(f'InstanceMemory: {labels.shape[0]} label rows '
                             f'for {feats.shape[0]} features')
        if labels.numel() and int(labels.max()) >= self.num_instances:
            raise ValueError(
                f'InstanceMemory: index {int(labels.max())} out of range '
                f'for {self.num_instances} entries')
        m = self.momentum
        for column in reversed(range(labels.shape[1])):
            index = labels[:, column]
            valid = index >= 0
            index, rows = index[valid], feats[valid]
            if index.unique().numel() == index.numel():
                # Distinct entries: the vectorised update equals the
                # sequential one.
                self.bank[index] = F.normalize(
                    m * self.bank[index] + (1 - m) * rows, dim=-1)
                continue
            for idx, row in zip(index.tolist(), rows):
                self.bank[idx] = F.normalize(
                    m * self.bank[idx] + (1 - m) * row, dim=-1)

    def extra_repr(self) -> str:
        return (f'feat_dim={self.feat_dim}, num_parts={self.num_parts}, '
                f'num_instances={self.num_instances}, '
                f'momentum={self.momentum}, init={self.init!r}')
