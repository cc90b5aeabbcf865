"""Non-finite and zero memory entries and anchors in the per-batch sample
selectors: never selected, warned about when they change (the policy of
``mmreid_unsup/utils/bad_features.py``)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from spoilt_features import BAD_ROWS, blobs, spoil

from mmreid_unsup.models import sample_selectors
from mmreid_unsup.models.sample_selectors import (CredibleSampleSelector,
                                                  NeighbourSelector)
from mmreid_unsup.registry import MODELS

SELECTORS = ('NeighbourSelector', 'CredibleSampleSelector')


def test_every_registered_selector_is_covered():
    ours = {
        name
        for name, cls in MODELS.module_dict.items()
        if cls.__module__.startswith(sample_selectors.__name__)
    }
    assert ours == set(SELECTORS)


@pytest.mark.parametrize('name', SELECTORS)
def test_unknown_policy_is_refused(name):
    with pytest.raises(ValueError, match="on_bad_features must be one of "
                       r"\('outlier', 'error'\), got 'drop'"):
        MODELS.build(dict(type=name, on_bad_features='drop'))


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
