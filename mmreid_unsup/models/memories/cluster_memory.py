"""Memory of cluster centroids (Cluster-Contrast)."""
from typing import Optional, Union

import torch
import torch.nn.functional as F

from mmreid_unsup.registry import MODELS
from .base_memory import BaseMemory


@MODELS.register_module()
class ClusterMemory(BaseMemory):
    """One L2-normalised centroid per pseudo identity.

    The bank ``(C, D)`` is initialised from the mean feature of each cluster
    (:meth:`init_from_features`, at every cluster refresh). ``forward``
    returns the cosine similarities of a batch to all centroids. After the
    optimizer step the centroids of the batch's clusters are moved towards
    the batch features by momentum and re-normalised::

        c_y <- normalize(m * c_y + (1 - m) * f)

    With ``update_rule='mean'`` every sample is applied in batch order, one
    after the other (the order matters because of the normalisation). With
    ``'hard'`` (Cluster-Contrast's ``CM_Hard``) each cluster present in the
    batch is updated once, with its member of *lowest* cosine similarity to
    the current centroid (the hardest positive). Samples with label ``-1``
    never update the bank.

    Args:
        feat_dim (int): Feature dimension ``D``.
        momentum (float): Weight ``m`` of the old centroid. Defaults to 0.1
            (Cluster-Contrast README; a new sample weighs 0.9).
        update_rule (str): ``'mean'`` or ``'hard'``. Defaults to ``'mean'``.
        init_cfg (dict, optional): MMEngine init config. Defaults to None.
    """

    resizable_buffers = ('bank', )
    update_rules = ('mean', 'hard')

    def __init__(self,
                 feat_dim: int,
                 momentum: float = 0.1,
                 update_rule: str = 'mean',
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(
                f'ClusterMemory: momentum must be in [0, 1], got {momentum}')
        if update_rule not in self.update_rules:
            raise ValueError(f'ClusterMemory: update_rule must be one of '
                             f'{self.update_rules}, got {update_rule!r}')
        self.feat_dim = feat_dim
        self.momentum = momentum
        self.update_rule = update_rule
        self.bank: torch.Tensor
        self.register_buffer('bank', torch.zeros(0, feat_dim))

    @property
    def num_clusters(self) -> int:
        """Number of centroids ``C``."""
        return self.bank.shape[0]

    def init_from_features(self, features: torch.Tensor,
                           labels: torch.Tensor) -> None:
        """Set the bank to the normalised mean feature of each cluster.

        Any pending update is dropped (its labels belong to the old
        clusters).

        Args:
            features (Tensor): Shape ``(N, D)``.
            labels (Tensor): Shape ``(N,)``, clusters ``0..C-1`` (each with
                at least one member), ``-1`` for outliers, which are ignored.
        """
        if features.dim() != 2 or features.shape[1] != self.feat_dim:
            raise ValueError(f'ClusterMemory: expected features (N, '
                             f'{self.feat_dim}), got {tuple(features.shape)}')
        if labels.shape != features.shape[:1]:
            raise ValueError(f'ClusterMemory: {labels.numel()} labels for '
                             f'{features.shape[0]} features')
        self.clear_pending_update()
        device, dtype = self.bank.device, self.bank.dtype
        features = features.detach().to(device=device, dtype=dtype)
        labels = labels.detach().to(device=device, dtype=torch.long)
        valid = labels >= 0
        num_clusters = int(labels.max()) + 1 if valid.any() else 0
        sums = features.new_zeros(num_clusters, self.feat_dim)
        sums.index_add_(0, labels[valid], features[valid])
        counts = torch.bincount(labels[valid], minlength=num_clusters)
        if (counts == 0).any():
            empty = torch.nonzero(counts == 0).flatten()[:5].tolist()
            raise ValueError('ClusterMemory: labels must be 0..C-1 with no '
                             f'gaps; clusters {empty} have no member')
        self.bank = F.normalize(sums / counts.unsqueeze(1).to(dtype), dim=1)

    def forward(self, feats: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        """Cosine similarities to the centroids (no temperature).

        In training mode the normalised features and the labels are recorded
        as the pending update (see :class:`BaseMemory`).

        Args:
            feats (Tensor): Shape ``(B, D)``; normalised here.
            labels (Tensor): Shape ``(B,)``, ``-1`` for samples that must not
                update the bank.

        Returns:
            Tensor: Shape ``(B, C)``.
        """
        if self.num_clusters == 0:
            raise RuntimeError(
                'ClusterMemory is empty: call init_from_features (through '
                'the model\'s set_pseudo_labels) before training')
        if labels.numel() > 0 and int(labels.max()) >= self.num_clusters:
            raise ValueError(
                f'ClusterMemory: label {int(labels.max())} out of range for '
                f'{self.num_clusters} clusters')
        feats = F.normalize(feats, dim=1)
        if self.training:
            self.record_pending_update(feats, labels)
        return feats @ self.bank.to(feats.dtype).t()

    def extra_repr(self) -> str:
        return (f'feat_dim={self.feat_dim}, num_clusters={self.num_clusters}'
                f', momentum={self.momentum}, '
                f'update_rule={self.update_rule!r}')

    def _momentum_update(self, feats: torch.Tensor,
                         labels: torch.Tensor) -> None:
        feats = feats.to(self.bank.dtype)
        if self.update_rule == 'hard':
            feats, labels = self._hardest_positives(feats, labels)
        for feat, label in zip(feats, labels.tolist()):
            if label < 0:
                continue
            centroid = self.momentum * self.bank[label] + (
                1.0 - self.momentum) * feat
            self.bank[label] = F.normalize(centroid, dim=0)

    def _hardest_positives(self, feats: torch.Tensor, labels: torch.Tensor):
        """The least similar member of each cluster present in the batch.

        Returns:
            tuple[Tensor, Tensor]: One feature per cluster and its label.
        """
        clusters = labels[labels >= 0].unique()
        hardest = []
        for label in clusters.tolist():
            members = feats[labels == label]
            hardest.append(members[(members @ self.bank[label]).argmin()])
        if not hardest:
            return feats[:0], labels[:0]
        return torch.stack(hardest), clusters
