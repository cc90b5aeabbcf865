"""How well pseudo labels agree with ground-truth identities.

Used by ``ClusterRefreshHook`` when the training set has true ids (to tell a
clustering problem from a feature problem) and by the benchmark. Outliers
(label ``-1``) count as singletons: each is its own cluster, so it forms no
pair with anything.
"""
from typing import Dict, Optional

import numpy as np

__all__ = [
    'outliers_as_singletons', 'pseudo_label_quality', 'pseudo_pair_quality'
]


def outliers_as_singletons(labels: np.ndarray) -> np.ndarray:
    """Give every negative label a cluster of its own.

    Args:
        labels (np.ndarray): ``(N,)`` integer labels, negative = outlier.

    Returns:
        np.ndarray: ``(N,)`` int64 labels, outliers renumbered after the
        largest label.
    """
    labels = np.asarray(labels).astype(np.int64)
    outliers = labels < 0
    out = labels.copy()
    out[outliers] = labels.max(initial=-1) + 1 + np.arange(outliers.sum())
    return out


def pseudo_label_quality(labels: np.ndarray,
                         truth: np.ndarray) -> Dict[str, float]:
    """Clustering scores of pseudo labels against true identities.

    Args:
        labels (np.ndarray): ``(N,)`` pseudo labels, ``-1`` = outlier.
        truth (np.ndarray): ``(N,)`` ground-truth identity of each sample.

    Returns:
        dict[str, float]: ``ari`` and ``nmi`` (scikit-learn), and the
        pairwise scores over same-cluster pairs: ``pairwise_precision``
        (fraction of the pairs the pseudo labels put together that share an
        identity), ``pairwise_recall`` (fraction of same-identity pairs put
        together) and ``pairwise_fscore`` (their harmonic mean). A score
        whose denominator is empty (no pair at all) is 0.
    """
    # Imported when labels are scored (1.7 s with scipy.stats), as
    # DBSCANLabeler imports DBSCAN: tools that score none (tools/test.py,
    # tools/search.py) start without scikit-learn.
    from sklearn.metrics import (adjusted_rand_score,
                                 normalized_mutual_info_score)
    from sklearn.metrics.cluster import pair_confusion_matrix
    labels = outliers_as_singletons(labels)
    truth = np.asarray(truth)
    if labels.shape != truth.shape:
        raise ValueError(f'labels {labels.shape} and truth {truth.shape} '
                         'must have the same shape')
    # Ordered pair counts; row: apart/together in truth, column: apart/
    # together in the pseudo labels.
    confusion = pair_confusion_matrix(truth, labels).astype(np.float64)
    together = confusion[1, 1]
    predicted = together + confusion[0, 1]
    actual = together + confusion[1, 0]
    precision = together / predicted if predicted else 0.0
    recall = together / actual if actual else 0.0
    fscore = (2 * precision * recall / (precision + recall)
              if precision + recall else 0.0)
    return dict(
        ari=float(adjusted_rand_score(truth, labels)),
        nmi=float(normalized_mutual_info_score(truth, labels)),
        pairwise_precision=float(precision),
        pairwise_recall=float(recall),
        pairwise_fscore=float(fscore))


def pseudo_pair_quality(partners: np.ndarray,
                        truth: np.ndarray,
                        camids: Optional[np.ndarray] = None
                        ) -> Dict[str, float]:
    """How good pseudo-pair partners are against true identities.

    Args:
        partners (np.ndarray): ``(N, K)`` partner indices, ``-1`` padding.
        truth (np.ndarray): ``(N,)`` ground-truth identity of each sample.
        camids (np.ndarray, optional): ``(N,)`` cameras.

    Returns:
        dict[str, float]: ``pair_precision`` (fraction of partners with the
        anchor's identity), ``pair_recall`` (fraction of the anchor's
        same-identity images that are among its partners, averaged over
        anchors with at least one such image), ``anchors_with_partner``,
        ``mean_partners`` and, with cameras, ``pair_cross_camera`` (fraction
        of partners from another camera than the anchor's). A score whose
        denominator is empty is 0.
    """
    partners = np.asarray(partners, dtype=np.int64)
    truth = np.asarray(truth)
    if partners.ndim != 2 or partners.shape[0] != truth.shape[0]:
        raise ValueError(f'partners {partners.shape} must be (N, K) for '
                         f'truth of shape {truth.shape}')
    valid = partners >= 0
    safe = np.where(valid, partners, 0)
    same = (truth[safe] == truth[:, None]) & valid
    num_pairs = int(valid.sum())
    _, inverse, counts = np.unique(
        truth, return_inverse=True, return_counts=True)
    others = counts[inverse] - 1
    has_others = others > 0
    recall = (same.sum(1)[has_others] / others[has_others]).mean() if (
        has_others.any()) else 0.0
    stats = dict(
        pair_precision=float(same.sum() / num_pairs) if num_pairs else 0.0,
        pair_recall=float(recall),
        anchors_with_partner=float(valid.any(1).mean()) if len(truth) else
        0.0,
        mean_partners=float(valid.sum(1).mean()) if len(truth) else 0.0)
    if camids is not None:
        camids = np.asarray(camids)
        cross = (camids[safe] != camids[:, None]) & valid
        stats['pair_cross_camera'] = (float(cross.sum() / num_pairs)
                                      if num_pairs else 0.0)
    return stats
