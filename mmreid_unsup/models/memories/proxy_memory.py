"""Memory of one selected member per cluster (GRACL's proxies)."""
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.dist import broadcast, is_main_process
from mmengine.logging import print_log

from mmreid_unsup.registry import MODELS
from ..proxy_selectors.base_proxy_selector import cluster_centroids
from .cluster_memory import ClusterMemory


@MODELS.register_module()
class ProxyMemory(ClusterMemory):
    """One L2-normalised proxy per pseudo identity: a *member* of the
    cluster chosen by a proxy selector, instead of the centroid.

    At every cluster refresh (:meth:`init_from_features`, through the
    model's ``set_pseudo_labels``) the selector (e.g.
    ``InterIDProxySelector``, ``IntraIDProxySelector``) picks one member per
    cluster on rank 0; the indices are broadcast and every rank sets its bank
    to those members' features, so the banks are identical even if the
    selection is not bit-reproducible across processes.

    ``forward`` returns the cosine similarities to the proxies, like
    :class:`ClusterMemory`. After the optimizer step the proxies move by
    momentum, with the features of every rank (see :class:`BaseMemory`)::

        p_k <- normalize(m * p_k + (1 - m) * f)

    With ``update_rule='hard'`` (the default) each cluster present in the
    batch is updated once, with the member the selector picks in the batch
    by **the rule that chose the proxy at the refresh**
    (``select_in_batch``). A batch holds a few members of a cluster, not
    all, so the memory keeps what the rule needs besides the proxies: a
    running estimate of every cluster's L2-normalised centroid
    (``centroids``), set to the exact centroid of the clustering features
    at each refresh and, at each update and before the selection, moved
    towards the normalised mean ``b_k`` of the batch's members of the
    cluster::

        c_k <- normalize(m_c * c_k + (1 - m_c) * b_k)

    E.g. the intra-ID rule, "the member least similar to its cluster's
    centroid", then picks in a batch the member least similar to the
    centroid estimate; fed the clustering features as a batch right after a
    refresh, it picks the refresh's proxies again. ``'mean'`` applies every
    sample in batch order, as ``ClusterMemory`` does; the proxy then drifts
    towards the cluster mean.

    Args:
        feat_dim (int): Feature dimension ``D``.
        selector (dict): Config of the proxy selector (``MODELS``).
        momentum (float): Weight ``m`` of the old proxy. Defaults to 0.1.
        update_rule (str): ``'hard'`` or ``'mean'``. Defaults to ``'hard'``.
        centroid_momentum (float): Weight ``m_c`` of the old centroid
            estimate. Defaults to 0.5: a cluster appears in a few batches
            per epoch (16 pseudo identities of 4 images per batch), so the
            refresh's centroid still weighs 1/4 after two of them.
        init_cfg (dict, optional): MMEngine init config. Defaults to None.

    Attributes:
        proxy_indices (Tensor | None): Dataset indices of the members chosen
            at the last refresh, shape ``(K,)`` (not saved in checkpoints:
            the bank is).
        centroids (Tensor): The centroid estimates, shape ``(K, D)`` (a
            buffer, in checkpoints).
    """

    resizable_buffers = ('bank', 'centroids')

    def __init__(self,
                 feat_dim: int,
                 selector: dict,
                 momentum: float = 0.1,
                 update_rule: str = 'hard',
                 centroid_momentum: float = 0.5,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(
            feat_dim=feat_dim,
            momentum=momentum,
            update_rule=update_rule,
            init_cfg=init_cfg)
        if not 0.0 <= centroid_momentum <= 1.0:
            raise ValueError('ProxyMemory: centroid_momentum must be in '
                             f'[0, 1], got {centroid_momentum}')
        self.centroid_momentum = centroid_momentum
        self.selector = MODELS.build(selector)
        self.proxy_indices: Optional[torch.Tensor] = None
        self.centroids: torch.Tensor
        self.register_buffer('centroids', torch.zeros(0, feat_dim))

    def init_from_features(self, features: torch.Tensor,
                           labels: torch.Tensor) -> None:
        """Set the bank to the selected member of each cluster.

        Collective under DDP: every rank calls it with the same labels (the
        refresh hook broadcasts them); the selector runs on rank 0 only.
        Any pending update is dropped (its labels belong to the old
        clusters).

        Args:
            features (Tensor): Shape ``(N, D)``, L2-normalised.
            labels (Tensor): Shape ``(N,)``, clusters ``0..K-1`` (each with
                at least one member), ``-1`` for outliers, which never
                become proxies.
        """
        if features.dim() != 2 or features.shape[1] != self.feat_dim:
            raise ValueError(f'ProxyMemory: expected features (N, '
                             f'{self.feat_dim}), got {tuple(features.shape)}')
        if labels.shape != features.shape[:1]:
            raise ValueError(f'ProxyMemory: {labels.numel()} labels for '
                             f'{features.shape[0]} features')
        self.clear_pending_update()
        features = features.detach()
        labels = labels.detach().to(device=features.device, dtype=torch.long)
        valid = labels >= 0
        num_clusters = int(labels.max()) + 1 if bool(valid.any()) else 0
        # Checked on every rank (the labels are the same everywhere), so a
        # bad input fails everywhere instead of leaving ranks in broadcast.
        counts = torch.bincount(labels[valid], minlength=num_clusters)
        if (counts == 0).any():
            empty = torch.nonzero(counts == 0).flatten()[:5].tolist()
            raise ValueError('ProxyMemory: labels must be 0..K-1 with no '
                             f'gaps; clusters {empty} have no member')
        indices = torch.zeros(
            num_clusters, dtype=torch.long, device=features.device)
        if is_main_process():
            indices = self.selector(features, labels).to(features.device)
            print_log(
                f'ProxyMemory: {self.selector!r} selected {num_clusters} '
                f'proxies among {features.shape[0]} samples in '
                f"{self.selector.last_stats.get('time_select', 0.0):.3g}s",
                logger='current')
        broadcast(indices, src=0)
        self.proxy_indices = indices
        device, dtype = self.bank.device, self.bank.dtype
        self.bank = F.normalize(
            features[indices].to(device=device, dtype=dtype), dim=1)
        self.centroids = cluster_centroids(
            features[valid].to(device=device, dtype=dtype),
            labels[valid].to(device), num_clusters)

    def _momentum_update(self, feats: torch.Tensor,
                         labels: torch.Tensor) -> None:
        feats = feats.to(self.bank.dtype)
        self._update_centroids(feats, labels)
        super()._momentum_update(feats, labels)

    def _update_centroids(self, feats: torch.Tensor,
                          labels: torch.Tensor) -> None:
        """Move each batch cluster's centroid estimate towards the mean of
        its members in the batch (outliers move nothing)."""
        valid = labels >= 0
        if not bool(valid.any()):
            return
        labels = labels[valid].to(self.centroids.device)
        clusters = labels.unique()
        batch_means = cluster_centroids(
            feats[valid].to(self.centroids.device), labels,
            self.num_clusters)[clusters]
        self.centroids[clusters] = F.normalize(
            self.centroid_momentum * self.centroids[clusters] +
            (1.0 - self.centroid_momentum) * batch_means,
            dim=1)

    def _hardest_positives(
            self, feats: torch.Tensor,
            labels: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """The member of each cluster in the batch the selector picks.

        Returns:
            tuple[Tensor, Tensor]: One feature per cluster and its label.
        """
        rows, clusters = self.selector.select_in_batch(
            feats, labels, self.bank, self.centroids)
        return feats[rows], clusters

    def _load_from_state_dict(self, state_dict: Dict[str, torch.Tensor],
                              prefix: str, local_metadata: dict, strict: bool,
                              missing_keys: List[str],
                              unexpected_keys: List[str],
                              error_msgs: List[str]) -> None:
        # A checkpoint written before the centroid estimates existed: start
        # them from its proxies (the next refresh sets the exact centroids).
        if (prefix + 'centroids' not in state_dict
                and prefix + 'bank' in state_dict):
            state_dict[prefix + 'centroids'] = state_dict[prefix + 'bank']
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)

    def extra_repr(self) -> str:
        return (f'{super().extra_repr()}, centroid_momentum='
                f'{self.centroid_momentum}, selector={self.selector!r}')
