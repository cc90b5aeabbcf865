"""What every proxy selector does: one member per cluster, by a score."""
import time
from abc import ABCMeta, abstractmethod
from typing import Dict, Tuple, Union

import torch
import torch.nn.functional as F

__all__ = ['BaseProxySelector', 'group_argmin', 'cluster_centroids']


def cluster_centroids(features: torch.Tensor, labels: torch.Tensor,
                      num_clusters: int) -> torch.Tensor:
    """The L2-normalised mean feature of each cluster.

    Args:
        features (Tensor): Shape ``(M, D)``.
        labels (Tensor): Their clusters ``0..K-1``, shape ``(M,)``, all
            ``>= 0``.
        num_clusters (int): ``K``.

    Returns:
        Tensor: Shape ``(K, D)`` (a zero row for a cluster without
        members, or whose members cancel out).
    """
    sums = features.new_zeros(num_clusters, features.shape[1])
    sums.index_add_(0, labels, features)
    return F.normalize(sums, dim=1)


def group_argmin(scores: torch.Tensor,
                 groups: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """The entry of lowest score in each group.

    Ties go to the smallest index, so the result does not depend on the
    sorting backend.

    Args:
        scores (Tensor): Shape ``(M,)``.
        groups (Tensor): Long tensor ``(M,)``, the group of each entry.

    Returns:
        tuple[Tensor, Tensor]: The groups present, ascending, shape
        ``(G,)``, and the index into ``scores`` of each group's entry of
        lowest score, shape ``(G,)``.
    """
    order = torch.argsort(scores, stable=True)
    order = order[torch.argsort(groups[order], stable=True)]
    sorted_groups = groups[order]
    first = torch.ones_like(sorted_groups, dtype=torch.bool)
    first[1:] = sorted_groups[1:] != sorted_groups[:-1]
    return sorted_groups[first], order[first]


class BaseProxySelector(metaclass=ABCMeta):
    """Pick one member of every cluster as the cluster's proxy.

    A selector scores each sample by its relation to the others; the member
    of *lowest* score becomes its cluster's proxy (ties: the smallest
    index). It is used at two moments, and must apply **one rule** at both:

    - at each cluster refresh, ``selector(features, labels)`` picks the
      proxies among the whole training set (``ProxyMemory`` runs it on rank
      0 and broadcasts the indices), from :meth:`refresh_scores`;
    - at each momentum update, :meth:`select_in_batch` picks, among a
      training batch (gathered from every rank), the member of each cluster
      that moves that cluster's proxy, from :meth:`batch_scores`. The batch
      holds only a few members of each cluster, so the relations the rule
      needs come from ``ProxyMemory``'s running estimates: the current
      proxies and the running cluster centroids, which at a refresh are
      exactly the normalised means of the clustering features.

    Subclasses implement the two scores.

    Attributes:
        last_stats (dict): Of the last refresh call: ``num_samples``,
            ``num_clusters`` and ``time_select`` (seconds).
    """

    def __init__(self) -> None:
        self.last_stats: Dict[str, Union[int, float]] = {}

    def __call__(self, features: torch.Tensor,
                 labels: torch.Tensor) -> torch.Tensor:
        """Select one proxy per cluster among the training set.

        Args:
            features (Tensor): Shape ``(N, D)``, L2-normalised, dataset
                order.
            labels (Tensor): Shape ``(N,)``, clusters ``0..K-1`` (each with
                at least one member), ``-1`` for outliers, which are never
                selected and never compared with.

        Returns:
            Tensor: Long tensor ``(K,)``: the index into ``features`` of
            each cluster's proxy, on the features' device.
        """
        if features.dim() != 2 or labels.shape != features.shape[:1]:
            raise ValueError(
                f'{type(self).__name__}: expected features (N, D) and labels '
                f'(N,), got {tuple(features.shape)} and '
                f'{tuple(labels.shape)}')
        start = time.perf_counter()
        labels = labels.to(device=features.device, dtype=torch.long)
        members = torch.nonzero(labels >= 0).flatten()
        num_clusters = int(labels.max()) + 1 if members.numel() else 0
        counts = torch.bincount(labels[members], minlength=num_clusters)
        if (counts == 0).any():
            empty = torch.nonzero(counts == 0).flatten()[:5].tolist()
            raise ValueError(f'{type(self).__name__}: labels must be 0..K-1 '
                             f'with no gaps; clusters {empty} have no member')
        indices = members.new_zeros(num_clusters)
        if num_clusters > 0:
            with torch.no_grad():
                scores = self.refresh_scores(features[members],
                                             labels[members], num_clusters)
            _, best = group_argmin(scores, labels[members])
            indices = members[best]
        self.last_stats = dict(
            num_samples=int(labels.numel()),
            num_clusters=num_clusters,
            time_select=time.perf_counter() - start)
        return indices

    def select_in_batch(
            self, feats: torch.Tensor, labels: torch.Tensor,
            proxies: torch.Tensor,
            centroids: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """The member of each cluster in a batch that updates its proxy.

        Args:
            feats (Tensor): Batch features, shape ``(B, D)``, L2-normalised.
            labels (Tensor): Their labels, shape ``(B,)``; ``-1`` (outliers)
                are never selected.
            proxies (Tensor): The current proxies, shape ``(K, D)``.
            centroids (Tensor): The current estimates of the L2-normalised
                cluster centroids, shape ``(K, D)``.

        Returns:
            tuple[Tensor, Tensor]: The rows of ``feats`` selected, shape
            ``(G,)``, and their clusters (ascending), shape ``(G,)``, one
            per cluster present in the batch.
        """
        members = torch.nonzero(labels >= 0).flatten()
        if members.numel() == 0:
            return members, labels[members]
        scores = self.batch_scores(feats[members], labels[members], proxies,
                                   centroids)
        clusters, best = group_argmin(scores, labels[members])
        return members[best], clusters

    @abstractmethod
    def refresh_scores(self, features: torch.Tensor, labels: torch.Tensor,
                       num_clusters: int) -> torch.Tensor:
        """Score every clustered sample of the training set.

        Args:
            features (Tensor): The clustered samples only, shape ``(M, D)``.
            labels (Tensor): Their clusters, ``0..K-1``, shape ``(M,)``.
            num_clusters (int): ``K``.

        Returns:
            Tensor: Shape ``(M,)``; lower = a better proxy.
        """

    @abstractmethod
    def batch_scores(self, feats: torch.Tensor, labels: torch.Tensor,
                     proxies: torch.Tensor,
                     centroids: torch.Tensor) -> torch.Tensor:
        """Score the clustered samples of a batch by the refresh's rule.

        Args:
            feats (Tensor): Shape ``(B', D)``.
            labels (Tensor): Their clusters, shape ``(B',)``, all ``>= 0``.
            proxies (Tensor): The current proxies, shape ``(K, D)``.
            centroids (Tensor): The running centroid estimates, shape
                ``(K, D)``.

        Returns:
            Tensor: Shape ``(B',)``; lower = a better proxy.
        """

    def __repr__(self) -> str:
        return f'{type(self).__name__}()'
