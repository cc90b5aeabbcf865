"""Memory of one selected member per cluster (GRACL's proxies)."""
from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.dist import broadcast, is_main_process
from mmengine.logging import print_log

from mmreid_unsup.registry import MODELS
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
    against the current proxies (``select_in_batch``): the same relation
    that chose the proxy keeps it up to date. ``'mean'`` applies every
    sample in batch order, as ``ClusterMemory`` does; the proxy then drifts
    towards the cluster mean.

    Args:
        feat_dim (int): Feature dimension ``D``.
        selector (dict): Config of the proxy selector (``MODELS``).
        momentum (float): Weight ``m`` of the old proxy. Defaults to 0.1.
        update_rule (str): ``'hard'`` or ``'mean'``. Defaults to ``'hard'``.
        init_cfg (dict, optional): MMEngine init config. Defaults to None.

    Attributes:
        proxy_indices (Tensor | None): Dataset indices of the members chosen
            at the last refresh, shape ``(K,)`` (not saved in checkpoints:
            the bank is).
    """

    def __init__(self,
                 feat_dim: int,
                 selector: dict,
                 momentum: float = 0.1,
                 update_rule: str = 'hard',
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(
            feat_dim=feat_dim,
            momentum=momentum,
            update_rule=update_rule,
            init_cfg=init_cfg)
        self.selector = MODELS.build(selector)
        self.proxy_indices: Optional[torch.Tensor] = None

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
        self.bank = F.normalize(
            features[indices].to(
                device=self.bank.device, dtype=self.bank.dtype),
            dim=1)

    def _hardest_positives(
            self, feats: torch.Tensor,
            labels: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """The member of each cluster in the batch the selector picks.

        Returns:
            tuple[Tensor, Tensor]: One feature per cluster and its label.
        """
        rows, clusters = self.selector.select_in_batch(feats, labels,
                                                       self.bank)
        return feats[rows], clusters

    def extra_repr(self) -> str:
        return f'{super().extra_repr()}, selector={self.selector!r}'
