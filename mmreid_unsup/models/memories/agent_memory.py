"""A per-image moving average of embeddings, started at first sight (PAUL's
image agents)."""
from typing import Optional, Union

import torch

from mmreid_unsup.registry import MODELS
from .base_memory import BaseMemory, gather_rows


@MODELS.register_module()
class AgentMemory(BaseMemory):
    """One "agent" per training image: a moving average of its embedding.

    PAUL's ``SmoothingForImage`` (``src/loss/smooth.py``), the reference
    point of the image-level loss. The bank ``(N, D)`` is *not*
    normalised (PAUL's image embeddings are concatenated cosines) and an
    entry is empty until its image is first seen; the boolean buffer
    ``seen`` ``(N,)`` says which are filled. For a batch feature ``f`` of
    image ``i``::

        agent_i = f                          if i was never seen
                  m * agent_i + (1 - m) * f  otherwise

    In PAUL the agent is updated *before* the loss, which then uses the
    updated value. Here :meth:`forward` returns that value without touching
    the bank (autograd may still hold it), and :meth:`record_pending_update`
    (same features) makes ``MemoryMomentumHook`` store it after the
    optimizer step, gathered from every rank: the loss sees the same
    agents, and the ranks' banks stay identical.

    Args:
        feat_dim (int): ``D``.
        momentum (float): ``m``, the weight of the old agent. Defaults to
            0.9 (PAUL's ``--mm 0.1`` is the weight of the new feature).
        init_cfg (dict, optional): MMEngine init config. Defaults to None.
    """

    resizable_buffers = ('bank', 'seen')

    def __init__(self,
                 feat_dim: int,
                 momentum: float = 0.9,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(
                f'AgentMemory: momentum must be in [0, 1], got {momentum}')
        self.feat_dim = feat_dim
        self.momentum = momentum
        self.bank: torch.Tensor
        self.seen: torch.Tensor
        self.register_buffer('bank', torch.zeros(0, feat_dim))
        self.register_buffer('seen', torch.zeros(0, dtype=torch.bool))

    @property
    def num_instances(self) -> int:
        """Number of entries ``N`` (0 before :meth:`reset`)."""
        return self.bank.shape[0]

    def reset(self, num_instances: int) -> None:
        """Make ``num_instances`` empty entries; drop pending updates."""
        self.clear_pending_update()
        self.bank = self.bank.new_zeros(num_instances, self.feat_dim)
        self.seen = self.seen.new_zeros(num_instances)

    def init_from_features(self,
                           features: torch.Tensor,
                           labels: Optional[torch.Tensor] = None) -> None:
        """Fill every entry with the given embeddings (all seen).

        Args:
            features (Tensor): ``(N, D)`` embeddings, dataset order.
            labels (Tensor, optional): Unused; for the :class:`BaseMemory`
                signature.
        """
        self._check(features)
        self.clear_pending_update()
        self.bank = features.detach().to(self.bank).clone()
        self.seen = self.seen.new_ones(features.shape[0])

    def _check(self, feats: torch.Tensor) -> None:
        if feats.dim() != 2 or feats.shape[1] != self.feat_dim:
            raise ValueError(f'AgentMemory: expected features of shape (*, '
                             f'{self.feat_dim}), got {tuple(feats.shape)}')

    def _check_indices(self, indices: torch.Tensor) -> None:
        if indices.numel() and (int(indices.min()) < 0 or
                                int(indices.max()) >= self.num_instances):
            raise IndexError(
                f'AgentMemory: indices in [{int(indices.min())}, '
                f'{int(indices.max())}] out of range for '
                f'{self.num_instances} entries: is the memory reset for this '
                'training set (InstanceMemoryHook)?')

    @torch.no_grad()
    def forward(self, feats: torch.Tensor,
                indices: torch.Tensor) -> torch.Tensor:
        """The agents of a batch, with the batch's features folded in.

        Args:
            feats (Tensor): ``(B, D)``, one row per image (distinct
                ``indices``).
            indices (Tensor): ``(B,)`` the images' entries.

        Returns:
            Tensor: ``(B, D)`` agents, without gradient.
        """
        self._check(feats)
        indices = indices.to(self.bank.device).long()
        self._check_indices(indices)
        feats = feats.detach().to(self.bank)
        old = self.bank[indices]
        seen = self.seen[indices].unsqueeze(1)
        m = self.momentum
        return torch.where(seen, m * old + (1 - m) * feats, feats)

    def apply_pending_update(self) -> None:
        """Apply the recorded batches of all ranks, in recording order."""
        pending, self._pending = self._pending, []
        for feats, labels in pending:
            feats, labels = gather_rows(feats), gather_rows(labels)
            with torch.no_grad():
                self._momentum_update(feats, labels)

    def _momentum_update(self, feats: torch.Tensor,
                         labels: torch.Tensor) -> None:
        self._check(feats)
        feats = feats.to(self.bank)
        labels = labels.to(self.bank.device).long()
        self._check_indices(labels)
        if labels.unique().numel() == labels.numel():
            # Distinct entries: the vectorised update is the sequential one.
            self.bank[labels] = self.forward(feats, labels)
            self.seen[labels] = True
            return
        for idx, row in zip(labels.tolist(), feats):
            self.bank[idx] = self.forward(row[None], labels.new_tensor([idx
                                                                        ]))[0]
            self.seen[idx] = True

    def extra_repr(self) -> str:
        return (f'feat_dim={self.feat_dim}, '
                f'num_instances={self.num_instances}, '
                f'momentum={self.momentum}')
