"""The policy for feature rows no labeler can use: finding the non-finite
and zero rows, describing them, and warning only when they change."""
import torch
from spoilt_features import BAD_ROWS, blobs, spoil

from mmreid_unsup.utils.bad_features import (BadRowMonitor,
                                             find_bad_feature_rows)


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
