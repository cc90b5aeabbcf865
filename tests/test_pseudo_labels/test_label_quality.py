"""Pairwise precision / recall / F-score, ARI and NMI of pseudo labels."""
import numpy as np
import pytest

from mmreid_unsup.pseudo_labels import (outliers_as_singletons,
                                        pseudo_label_quality)


def test_outliers_become_singletons():
    assert outliers_as_singletons(np.array([1, -1, 0, -1])).tolist() == [
        1, 2, 0, 3
    ]
    assert outliers_as_singletons(np.array([-1, -1])).tolist() == [0, 1]


def test_hand_counted_pairs():
    truth = np.array([0, 0, 0, 1, 1, 2])
    # Pseudo clusters {0, 1}, {2, 3, 4}; sample 5 is an outlier.
    labels = np.array([0, 0, 1, 1, 1, -1])
    scores = pseudo_label_quality(labels, truth)
    # Predicted pairs: (0,1) (2,3) (2,4) (3,4); true ones among them: (0,1)
    # and (3,4). True pairs: (0,1) (0,2) (1,2) (3,4).
    assert scores['pairwise_precision'] == pytest.approx(2 / 4)
    assert scores['pairwise_recall'] == pytest.approx(2 / 4)
    assert scores['pairwise_fscore'] == pytest.approx(0.5)
    assert -1 <= scores['ari'] < 1 and 0 < scores['nmi'] < 1


def test_perfect_and_degenerate_labels():
    truth = np.array([3, 3, 5, 5, 5, 9])
    perfect = pseudo_label_quality(np.array([0, 0, 1, 1, 1, 2]), truth)
    assert all(v == pytest.approx(1.0) for v in perfect.values())

    # Everything an outlier: no predicted pair at all.
    none = pseudo_label_quality(np.full(6, -1), truth)
    assert none['pairwise_precision'] == 0 and none['pairwise_recall'] == 0
    assert none['pairwise_fscore'] == 0

    # One big cluster: every true pair found, few predicted pairs right.
    merged = pseudo_label_quality(np.zeros(6, dtype=int), truth)
    assert merged['pairwise_recall'] == 1
    assert merged['pairwise_precision'] == pytest.approx(4 / 15)


def test_shape_mismatch():
    with pytest.raises(ValueError, match='shape'):
        pseudo_label_quality(np.zeros(3), np.zeros(4))


def test_pseudo_pair_quality_hand_counted():
    from mmreid_unsup.pseudo_labels import pseudo_pair_quality
    truth = np.array([0, 0, 0, 1, 1, 2])
    camids = np.array([0, 1, 0, 0, 1, 0])
    partners = np.array([
        [1, 3],  # one right (cross-camera), one wrong (same camera)
        [0, -1],  # right, cross-camera
        [-1, -1],  # no partner
        [4, -1],  # right, cross-camera
        [-1, -1],
        [-1, -1],  # identity 2 has no other image
    ])
    scores = pseudo_pair_quality(partners, truth, camids)
    assert scores['pair_precision'] == pytest.approx(3 / 4)
    # Recall over anchors with same-identity images (0..4): 1/2, 1/2, 0, 1,
    # 0.
    assert scores['pair_recall'] == pytest.approx(2 / 5)
    assert scores['anchors_with_partner'] == pytest.approx(3 / 6)
    assert scores['mean_partners'] == pytest.approx(4 / 6)
    assert scores['pair_cross_camera'] == pytest.approx(3 / 4)
    empty = pseudo_pair_quality(np.full((6, 2), -1), truth)
    assert empty['pair_precision'] == 0.0 and 'pair_cross_camera' not in empty
    with pytest.raises(ValueError, match='partners'):
        pseudo_pair_quality(np.zeros(6), truth)
