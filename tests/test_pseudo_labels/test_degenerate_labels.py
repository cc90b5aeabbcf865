"""DegenerateLabelPolicy and cluster_label_stats on constructed labels."""
import numpy as np
import pytest
import torch

from mmreid_unsup.pseudo_labels import (DegenerateLabelPolicy,
                                        cluster_label_stats)


def test_stats_count_trainable_clusters_largest_share_and_cameras():
    labels = np.array([0, 0, 0, 1, 2, 2, -1, -1])
    stats = cluster_label_stats(labels, camids=np.array([0, 1] * 4))
    assert stats == dict(
        num_clusters=3.0,
        num_outliers=2.0,
        num_trainable_clusters=2.0,  # cluster 1 is a single sample
        largest_cluster_fraction=3 / 8,
        num_cameras=2.0)
    empty = cluster_label_stats(np.full(4, -1))
    assert empty['num_clusters'] == 0
    assert empty['largest_cluster_fraction'] == 0


def test_usable_labels_pass_unchanged():
    labels = torch.tensor([0, 0, 1, 1, -1])
    decision = DegenerateLabelPolicy()(labels)
    assert decision.labels is labels
    assert decision.warnings == []
    assert not decision.kept_previous and not decision.instance_labels


@pytest.mark.parametrize('labels', [[-1] * 5, [0, 1, 2, -1, -1]])
def test_no_cluster_keeps_previous_labels_when_there_are_some(labels):
    previous = torch.tensor([0, 0, 1, 1, -1])
    decision = DegenerateLabelPolicy()(torch.tensor(labels), previous)
    assert torch.equal(decision.labels, previous)
    assert decision.labels is not previous
    assert decision.kept_previous
    assert 'policy: keeping the previous pseudo labels (2 clusters)' in \
        decision.warnings[0]


@pytest.mark.parametrize('previous', [None, torch.full((5, ), -1),
                                      torch.zeros(3, dtype=torch.long)])
def test_no_cluster_without_usable_previous_labels_makes_instances(
        previous):
    decision = DegenerateLabelPolicy()(torch.full((5, ), -1), previous)
    assert torch.equal(decision.labels, torch.arange(5))
    assert decision.instance_labels
    assert ('no pseudo identity has two or more samples (5 outliers and 0 '
            'single-sample clusters among 5 samples') in decision.warnings[0]
    assert '(no previous labels to keep)' in decision.warnings[0]


def test_instances_policy_ignores_previous_labels():
    decision = DegenerateLabelPolicy('instances')(
        torch.full((4, ), -1), torch.tensor([0, 0, 1, 1]))
    assert torch.equal(decision.labels, torch.arange(4))
    assert 'policy: every sample becomes its own class' in \
        decision.warnings[0]


def test_error_policy_names_the_problem_and_the_knobs():
    with pytest.raises(RuntimeError, match="eps too small.*on_no_clusters="
                       "'error' stops the run. Loosen the labeler"):
        DegenerateLabelPolicy('error')(torch.full((4, ), -1))


def test_giant_cluster_warns_and_keeps_the_labels():
    labels = torch.tensor([0] * 7 + [1, 1, -1])
    decision = DegenerateLabelPolicy(giant_cluster_fraction=0.6)(labels)
    assert decision.labels is labels
    assert decision.warnings == [
        'one pseudo identity holds 70.0% of the 10 samples (more than '
        'giant_cluster_fraction=0.6): the labeler merged many identities '
        '(DBSCAN eps too large, or collapsed features?); policy: training '
        'continues with these labels'
    ]
    assert not DegenerateLabelPolicy(giant_cluster_fraction=0.7)(
        labels).warnings


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="got 'drop'"):
        DegenerateLabelPolicy('drop')
    with pytest.raises(ValueError, match=r'\(0, 1\], got 1.5'):
        DegenerateLabelPolicy(giant_cluster_fraction=1.5)
