"""How well pseudo labels agree with ground-truth identities.

Used by ``ClusterRefreshHook`` when the training set has true ids (to tell a
clustering problem from a feature problem) and by the benchmark. Outliers
(label ``-1``) count as singletons: each is its own cluster, so it forms no
pair with anything.
"""
from typing import Dict

import numpy as np
from sklearn.metrics import (adjusted_rand_score,
                             normalized_mutual_info_score)
from sklearn.metrics.cluster import pair_confusion_matrix

__all__ = ['outliers_as_singletons', 'pseudo_label_quality']


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
