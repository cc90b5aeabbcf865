"""Non-finite and zero feature rows through every registered pseudo labeler.

The policy (``mmreid_unsup/utils/bad_features.py``): the rows are
outliers (``-1``, no partner, never a neighbour), the other rows are
labelled as if they were absent, and a warning names the count and the
first rows; ``on_bad_features='error'`` stops with that message.
"""
import numpy as np
import pytest
import torch
from spoilt_features import BAD_ROWS, blobs, spoil

import mmreid_unsup.pseudo_labels  # noqa: F401 - registers the labelers
from mmreid_unsup.registry import PSEUDO_LABELERS

# Small settings of each BaseLabeler that cluster four blobs of ten.
BATCH_LABELERS = {
    'DBSCANLabeler': dict(k1=8, k2=3, eps=0.5, min_samples=3),
    'InfomapLabeler': dict(k=6),
    'KMeansLabeler': dict(num_clusters=4, backend='sklearn'),
    'PseudoPairLabeler': dict(max_partners=3, search_depth=8),
}


def test_every_registered_labeler_is_covered():
    ours = {
        name
        for name, cls in PSEUDO_LABELERS.module_dict.items()
        if cls.__module__.startswith('mmreid_unsup.')
    }
    assert ours == set(BATCH_LABELERS)


@pytest.mark.parametrize('name', sorted(BATCH_LABELERS))
def test_bad_rows_become_outliers_and_the_rest_is_unchanged(name, log_lines):
    feats = blobs()
    spoilt = spoil(feats)
    labeler = PSEUDO_LABELERS.build(dict(type=name, **BATCH_LABELERS[name]))
    labels = labeler(spoilt).numpy()
    bad = sorted(BAD_ROWS)
    good = np.setdiff1d(np.arange(40), bad)
    assert (labels[bad] == -1).all()
    assert labeler.last_stats['nonfinite_rows'] == 2
    assert labeler.last_stats['zero_rows'] == 2
    warnings = [line for line in log_lines if line.startswith('WARNING')]
    assert len(warnings) == 1
    assert (f'WARNING {name}: 4 of 40 feature rows cannot be labelled: 2 '
            'have a NaN or Inf element (rows 5, 17) and 2 have zero norm '
            "(rows 26, 33); on_bad_features='outlier'") in warnings[0]
    # The others are labelled as if the bad rows were not there.
    alone = labeler(feats[good]).numpy()
    if labels.ndim == 2:  # partners: indices into the full set
        alone = np.where(alone >= 0, good[alone.clip(min=0)], -1)
        assert not np.isin(labels, bad).any()
    assert np.array_equal(labels[good], alone)
    if labels.ndim == 1:
        assert labeler.last_stats['num_clusters'] == 4


@pytest.mark.parametrize('name', sorted(BATCH_LABELERS))
def test_error_policy_names_the_rows(name):
    labeler = PSEUDO_LABELERS.build(
        dict(type=name, on_bad_features='error', **BATCH_LABELERS[name]))
    with pytest.raises(ValueError, match=r'rows 5, 17\).*zero norm \(rows '
                       r"26, 33\); on_bad_features='error' stops"):
        labeler(spoil(blobs()))
    assert labeler(blobs()).shape[0] == 40  # clean features pass


@pytest.mark.parametrize('name', sorted(BATCH_LABELERS))
def test_all_rows_bad_gives_all_outliers(name):
    labeler = PSEUDO_LABELERS.build(dict(type=name, **BATCH_LABELERS[name]))
    labels = labeler(torch.full((6, 4), float('nan')))
    assert labels.shape[0] == 6 and bool((labels == -1).all())


@pytest.mark.parametrize('name', sorted(BATCH_LABELERS))
def test_unknown_policy_is_refused(name):
    with pytest.raises(ValueError, match="on_bad_features must be one of "
                       r"\('outlier', 'error'\), got 'drop'"):
        PSEUDO_LABELERS.build(
            dict(type=name, on_bad_features='drop', **BATCH_LABELERS[name]))


def test_camera_centering_ignores_the_bad_rows():
    feats, camids = blobs(), torch.arange(40) % 2
    labeler = PSEUDO_LABELERS.build(
        dict(type='DBSCANLabeler', camera_centering=True,
             **BATCH_LABELERS['DBSCANLabeler']))
    good = np.setdiff1d(np.arange(40), sorted(BAD_ROWS))
    labels = labeler(spoil(feats), camids).numpy()
    alone = labeler(feats[good], camids[good]).numpy()
    assert np.array_equal(labels[good], alone)
    assert (labels[sorted(BAD_ROWS)] == -1).all()
