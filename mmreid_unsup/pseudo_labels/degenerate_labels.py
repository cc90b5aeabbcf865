"""Statistics that reveal degenerate cluster labels, and what to do then.

A labeler can return labels that no training step can use as they are:
every sample an outlier (DBSCAN's ``eps`` too small for the features, or a
model whose features collapsed), or one cluster holding most of the set
(``eps`` too large). :class:`DegenerateLabelPolicy` decides what a refresh
trains on in these cases, and says so; :func:`cluster_label_stats`
measures the labels for the logs.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np
import torch

#: What a refresh does when no cluster has two or more samples.
NO_CLUSTER_POLICIES = ('keep_previous', 'instances', 'error')


def cluster_label_stats(labels: np.ndarray,
                        camids: Optional[np.ndarray] = None
                        ) -> Dict[str, float]:
    """Numbers that show whether cluster labels can be trained on.

    Args:
        labels (np.ndarray): ``(N,)`` cluster ids, ``-1`` for outliers.
        camids (np.ndarray, optional): ``(N,)`` camera ids.

    Returns:
        dict: ``num_clusters``; ``num_outliers``; ``num_trainable_clusters``
        (clusters with two or more samples, the ones an identity sampler
        can draw positive pairs from); ``largest_cluster_fraction`` (the
        largest cluster's share of all ``N`` samples, 0 without clusters);
        and ``num_cameras`` (distinct cameras of the training set) when
        ``camids`` is given. All floats.
    """
    labels = np.asarray(labels)
    sizes = np.bincount(labels[labels >= 0]) if (labels >= 0).any() else \
        np.zeros(0, dtype=np.int64)
    sizes = sizes[sizes > 0]
    stats = dict(
        num_clusters=float(sizes.size),
        num_outliers=float((labels < 0).sum()),
        num_trainable_clusters=float((sizes >= 2).sum()),
        largest_cluster_fraction=float(sizes.max() / labels.size)
        if sizes.size else 0.0)
    if camids is not None:
        stats['num_cameras'] = float(np.unique(np.asarray(camids)).size)
    return stats


@dataclass
class PolicyDecision:
    """What :class:`DegenerateLabelPolicy` made of a labeler's output.

    Attributes:
        labels (Tensor): The labels to train on, ``(N,)``.
        warnings (list[str]): One message per degenerate case found, naming
            the problem and the policy applied.
        kept_previous (bool): The previous labels were kept.
        instance_labels (bool): Every sample became its own class.
    """

    labels: torch.Tensor
    warnings: List[str] = field(default_factory=list)
    kept_previous: bool = False
    instance_labels: bool = False


class DegenerateLabelPolicy:
    """Turn degenerate cluster labels into labels a run can train on.

    - *No cluster with two or more samples* (every sample an outlier, or
      only singletons): with ``on_no_clusters='keep_previous'`` (default)
      the labels of the previous refresh are kept when there are any (with
      at least one non-outlier), otherwise every sample becomes its own
      class (``'instances'``: labels ``0..N-1``; the identity sampler then
      repeats each drawn image ``K`` times, so its augmentations are the
      positives, and the memory holds one entry per image). ``'error'``
      stops the run instead.
    - *One giant cluster*: when the largest cluster holds more than
      ``giant_cluster_fraction`` of all samples, the labels are kept and a
      warning names the share; training continues.

    Args:
        on_no_clusters (str): ``'keep_previous'``, ``'instances'`` or
            ``'error'``. Defaults to ``'keep_previous'``.
        giant_cluster_fraction (float): Warn when one cluster holds more
            than this share of the samples, in ``(0, 1]``. Defaults to 0.5.

    Raises:
        ValueError: On an unknown policy or a fraction outside ``(0, 1]``.
    """

    def __init__(self,
                 on_no_clusters: str = 'keep_previous',
                 giant_cluster_fraction: float = 0.5) -> None:
        if on_no_clusters not in NO_CLUSTER_POLICIES:
            raise ValueError(
                f'on_no_clusters must be one of {NO_CLUSTER_POLICIES}, got '
                f'{on_no_clusters!r}')
        if not 0 < giant_cluster_fraction <= 1:
            raise ValueError('giant_cluster_fraction must be in (0, 1], got '
                             f'{giant_cluster_fraction!r}')
        self.on_no_clusters = on_no_clusters
        self.giant_cluster_fraction = giant_cluster_fraction

    def __call__(self,
                 labels: torch.Tensor,
                 previous: Optional[torch.Tensor] = None) -> PolicyDecision:
        """Apply the policies to one refresh's labels.

        Args:
            labels (Tensor): ``(N,)`` cluster ids from the labeler, ``-1``
                for outliers.
            previous (Tensor, optional): ``(N,)`` labels of the previous
                refresh (the model's buffer), or None.

        Returns:
            PolicyDecision: The labels to train on and the warnings.

        Raises:
            RuntimeError: If no cluster has two or more samples and
                ``on_no_clusters='error'``.
        """
        stats = cluster_label_stats(labels.cpu().numpy())
        num = labels.numel()
        if stats['num_trainable_clusters'] == 0:
            problem = (
                'no pseudo identity has two or more samples '
                f'({int(stats["num_outliers"])} outliers and '
                f'{int(stats["num_clusters"])} single-sample clusters among '
                f'{num} samples: DBSCAN eps too small for these features, or '
                'collapsed features?)')
            return self._no_clusters(labels, previous, problem)
        decision = PolicyDecision(labels)
        if stats['largest_cluster_fraction'] > self.giant_cluster_fraction:
            decision.warnings.append(
                'one pseudo identity holds '
                f'{stats["largest_cluster_fraction"]:.1%} of the {num} '
                f'samples (more than giant_cluster_fraction='
                f'{self.giant_cluster_fraction}): the labeler merged many '
                'identities (DBSCAN eps too large, or collapsed features?); '
                'policy: training continues with these labels')
        return decision

    def _no_clusters(self, labels: torch.Tensor,
                     previous: Optional[torch.Tensor],
                     problem: str) -> PolicyDecision:
        if self.on_no_clusters == 'error':
            raise RuntimeError(
                f"{problem}; on_no_clusters='error' stops the run. Loosen "
                "the labeler (larger eps, smaller min_samples) or set "
                "on_no_clusters='keep_previous' or 'instances'")
        usable = (previous is not None and previous.dim() == 1
                  and previous.shape == labels.shape
                  and bool((previous >= 0).any()))
        if self.on_no_clusters == 'keep_previous' and usable:
            return PolicyDecision(
                previous.to(labels.device).clone(),
                [f'{problem}; policy: keeping the previous pseudo labels '
                 f'({int(previous.max()) + 1} clusters)'],
                kept_previous=True)
        reason = ('' if self.on_no_clusters == 'instances' else
                  ' (no previous labels to keep)')
        return PolicyDecision(
            torch.arange(labels.numel(), device=labels.device),
            [f'{problem}; policy{reason}: every sample becomes its own class '
             '(instance discrimination; its augmentations are its '
             'positives)'],
            instance_labels=True)
