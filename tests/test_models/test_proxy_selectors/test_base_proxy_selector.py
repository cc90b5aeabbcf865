import pytest
import torch

from mmreid_unsup.models import (BaseProxySelector, cluster_centroids,
                                 group_argmin)


class _ByIndex(BaseProxySelector):
    """Scores each sample by minus its position: the last member wins."""

    def refresh_scores(self, features, labels, num_clusters):
        return -torch.arange(labels.numel(), dtype=features.dtype)

    def batch_scores(self, feats, labels, proxies, centroids):
        return -torch.arange(labels.numel(), dtype=feats.dtype)


def test_group_argmin_lowest_per_group_ties_to_smallest_index():
    scores = torch.tensor([3.0, 1.0, 1.0, 0.5, 2.0, 0.5])
    groups = torch.tensor([2, 0, 0, 2, 1, 2])
    present, best = group_argmin(scores, groups)
    assert present.tolist() == [0, 1, 2]
    # Group 0: entries 1 and 2 tie at 1.0 -> 1; group 2: 3 and 5 tie -> 3.
    assert best.tolist() == [1, 4, 3]


def test_indices_are_dataset_indices_in_cluster_order_skipping_outliers():
    selector = _ByIndex()
    labels = torch.tensor([1, -1, 0, 1, 0, -1])
    indices = selector(torch.randn(6, 2), labels)
    # The last member of each cluster; outliers 1 and 5 never qualify.
    assert indices.tolist() == [4, 3]
    assert selector.last_stats['num_clusters'] == 2
    assert selector.last_stats['num_samples'] == 6
    assert selector.last_stats['time_select'] >= 0


def test_only_outliers_gives_no_proxy():
    indices = _ByIndex()(torch.randn(3, 2), torch.full((3, ), -1))
    assert indices.shape == (0, ) and indices.dtype == torch.long


def test_label_gaps_and_bad_shapes_are_rejected():
    with pytest.raises(ValueError, match='no member'):
        _ByIndex()(torch.randn(2, 2), torch.tensor([0, 2]))
    with pytest.raises(ValueError, match='expected features'):
        _ByIndex()(torch.randn(2, 2), torch.tensor([0, 0, 0]))


def test_select_in_batch_skips_outliers_and_absent_clusters():
    selector = _ByIndex()
    labels = torch.tensor([2, -1, 0, 2, -1])
    rows, clusters = selector.select_in_batch(
        torch.randn(5, 2), labels, torch.randn(4, 2), torch.randn(4, 2))
    assert clusters.tolist() == [0, 2]
    assert rows.tolist() == [2, 3]
    rows, clusters = selector.select_in_batch(
        torch.randn(2, 2), torch.tensor([-1, -1]), torch.randn(4, 2),
        torch.randn(4, 2))
    assert rows.numel() == 0 and clusters.numel() == 0


def test_cluster_centroids_are_normalised_means():
    features = torch.tensor([[2.0, 0.0], [0.0, 2.0], [0.0, -1.0]])
    labels = torch.tensor([0, 0, 1])
    centroids = cluster_centroids(features, labels, 3)
    s = 2 ** -0.5
    torch.testing.assert_close(
        centroids, torch.tensor([[s, s], [0.0, -1.0], [0.0, 0.0]]))
