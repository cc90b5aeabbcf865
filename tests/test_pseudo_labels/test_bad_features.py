"""Non-finite and zero feature rows through every registered pseudo labeler.

The policy (``mmreid_unsup/pseudo_labels/bad_features.py``): the rows are
outliers (``-1``, no partner, never a neighbour), the other rows are
labelled as if they were absent, and a warning names the count and the
first rows; ``on_bad_features='error'`` stops with that message.
"""
import logging
from typing import List

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MMLogger

import mmreid_unsup.pseudo_labels  # noqa: F401 - registers the labelers
from mmreid_unsup.pseudo_labels import (CredibleSampleSelector,
                                        NeighbourSelector)
from mmreid_unsup.pseudo_labels.bad_features import (BadRowMonitor,
                                                     find_bad_feature_rows)
from mmreid_unsup.registry import PSEUDO_LABELERS

# Small settings of each BaseLabeler that cluster four blobs of ten.
BATCH_LABELERS = {
    'DBSCANLabeler': dict(k1=8, k2=3, eps=0.5, min_samples=3),
    'InfomapLabeler': dict(k=6),
    'KMeansLabeler': dict(num_clusters=4, backend='sklearn'),
    'PseudoPairLabeler': dict(max_partners=3, search_depth=8),
}
SELECTORS = ('NeighbourSelector', 'CredibleSampleSelector')

# One NaN element, one +Inf, two zero rows.
BAD_ROWS = {5: 'nan', 17: 'inf', 26: 'zero', 33: 'zero'}


@pytest.fixture
def log_lines():
    """Messages logged through MMEngine's current logger during the test."""
    lines: List[str] = []

    class Collect(logging.Handler):

        def emit(self, record):
            lines.append(f'{record.levelname} {record.getMessage()}')

    logger = MMLogger.get_current_instance()
    handler = Collect()
    logger.addHandler(handler)
    yield lines
    logger.removeHandler(handler)


def blobs(num_blobs: int = 4, size: int = 10, dim: int = 16) -> torch.Tensor:
    gen = torch.Generator().manual_seed(0)
    centres = 3 * torch.randn(num_blobs, dim, generator=gen)
    feats = centres.repeat_interleave(size, 0) + 0.1 * torch.randn(
        num_blobs * size, dim, generator=gen)
    return F.normalize(feats, dim=1)


def spoil(feats: torch.Tensor) -> torch.Tensor:
    feats = feats.clone()
    for row, kind in BAD_ROWS.items():
        if kind == 'zero':
            feats[row] = 0
        else:
            feats[row, 3] = float(kind)
    return feats


def test_every_registered_labeler_is_covered():
    ours = {
        name
        for name, cls in PSEUDO_LABELERS.module_dict.items()
        if cls.__module__.startswith('mmreid_unsup.')
    }
    assert ours == set(BATCH_LABELERS) | set(SELECTORS)


def test_find_bad_feature_rows_kinds_and_message():
    feats = spoil(blobs())
    bad = find_bad_feature_rows(feats)
    assert bad.nonfinite.tolist() == [5, 17]
    assert bad.zero.tolist() == [26, 33]
    assert bad.stats() == dict(nonfinite_rows=2, zero_rows=2)
    assert bad.describe() == (
        '4 of 40 feature rows cannot be labelled: 2 have a NaN or Inf '
        'element (rows 5, 17) and 2 have zero norm (rows 26, 33)')
    # A row bad in a second tensor of the same samples is bad.
    local = torch.ones(40, 2, 3)
    local[1, 1] = float('-inf')
    assert find_bad_feature_rows(feats, local).nonfinite.tolist() == [1, 5, 17]
    many = torch.zeros(9, 4)
    assert '(rows 0, 1, 2, 3, 4, ...)' in find_bad_feature_rows(
        many).describe()


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


@pytest.mark.parametrize('name', sorted(BATCH_LABELERS) + list(SELECTORS))
def test_unknown_policy_is_refused(name):
    with pytest.raises(ValueError, match="on_bad_features must be one of "
                       r"\('outlier', 'error'\), got 'drop'"):
        PSEUDO_LABELERS.build(
            dict(type=name, on_bad_features='drop',
                 **BATCH_LABELERS.get(name, {})))


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


def _scl_memories():
    global_bank = blobs()
    local_bank = F.normalize(
        global_bank.view(40, 2, 8) + 0.01, dim=2).contiguous()
    return spoil(global_bank), local_bank


def test_neighbour_selector_never_picks_bad_entries(log_lines):
    global_bank, local_bank = _scl_memories()
    selector = NeighbourSelector(
        num_positives=3, num_negatives=10, warmup_epochs=0)
    anchors = torch.tensor([0, 5, 12, 26])
    queries_g, queries_l = global_bank[anchors], local_bank[anchors]
    cams = torch.arange(40) % 3
    for _ in range(3):  # warns once, not every iteration
        sel = selector.select(queries_g, queries_l, anchors, global_bank,
                              local_bank, cams, epoch=0)
    assert not np.isin(sel.negatives.numpy(), sorted(BAD_ROWS)).any()
    # Good anchors: positives from their own blob; bad ones: only itself.
    assert (sel.positives[[0, 2], 1:] // 10 == torch.tensor([[0], [1]])).all()
    assert sel.positives[1].tolist() == [5] * 4
    assert sel.positives[3].tolist() == [26] * 4
    warnings = [line for line in log_lines if line.startswith('WARNING')]
    assert len(warnings) == 2
    assert ('NeighbourSelector: 4 of 40 memory entries cannot be labelled'
            in warnings[0])
    assert 'ranked after every other entry' in warnings[0]
    assert ('NeighbourSelector: 2 of 4 anchor features cannot be labelled: '
            '1 has a NaN or Inf element (row 1) and 1 has zero norm (row 3)'
            in warnings[1])
    with pytest.raises(ValueError, match='4 of 40 memory entries'):
        NeighbourSelector(on_bad_features='error').select(
            queries_g, queries_l, anchors, global_bank, local_bank, cams, 5)


def test_credible_selector_never_picks_bad_entries(log_lines):
    bank = spoil(blobs())
    selector = CredibleSampleSelector(
        num_neighbours=4, rules=('reciprocal', ), reciprocal_k=9)
    indices = torch.tensor([0, 17, 21, 33])
    for _ in range(3):
        out = selector.select(indices, bank)
    assert not np.isin(out[:, 1:].numpy(), sorted(BAD_ROWS)).any()
    kept = out[[0, 2], 1:]
    assert (kept >= 0).sum() >= 4
    assert ((kept // 10 == torch.tensor([[0], [2]])) | (kept < 0)).all()
    assert (out[[1, 3], 1:] == -1).all()
    warnings = [line for line in log_lines if line.startswith('WARNING')]
    assert len(warnings) == 1
    assert ('CredibleSampleSelector: 4 of 40 memory entries cannot be '
            'labelled' in warnings[0])
    # No rule: the plain top-k, still without the bad entries.
    plain = CredibleSampleSelector(num_neighbours=4, rules=())
    assert not np.isin(plain.select(indices, bank)[:, 1:].numpy(),
                       sorted(BAD_ROWS)).any()
    with pytest.raises(ValueError, match=r'rows 5, 17\)'):
        CredibleSampleSelector(on_bad_features='error').select(indices, bank)


def test_monitor_warns_again_when_the_rows_change(log_lines):
    monitor = BadRowMonitor('outlier', 'Probe')
    feats = blobs()
    monitor('memory entries', 'ignored', feats)  # clean: no warning
    monitor('memory entries', 'ignored', spoil(feats))
    monitor('memory entries', 'ignored', spoil(feats))
    feats[0] = 0
    mask = monitor('memory entries', 'ignored', spoil(feats))
    assert mask.nonzero().flatten().tolist() == [0] + sorted(BAD_ROWS)
    assert len([x for x in log_lines if x.startswith('WARNING')]) == 2
