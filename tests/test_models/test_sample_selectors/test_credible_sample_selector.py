"""CredibleSampleSelector: each rule on a constructed memory."""
import math

import pytest
import torch

from mmreid_unsup.models.sample_selectors import CredibleSampleSelector

# Unit vectors at these angles (degrees). Entry 0's two nearest are 1 (10)
# and 2 (25). Entry 1's two nearest are 0 and 2 (reciprocal); entry 2's are
# 6 (at 30) and 1, not 0 (not reciprocal).
ANGLES = [0, 10, 25, 90, 100, 180, 30]
BANK = torch.tensor([[math.cos(math.radians(a)),
                      math.sin(math.radians(a))] for a in ANGLES])


def _select(**kwargs):
    patch_bank = kwargs.pop('patch_bank', None)
    camids = kwargs.pop('camids', None)
    selector = CredibleSampleSelector(num_neighbours=2, **kwargs)
    return selector.select(
        torch.tensor([0]), BANK, patch_bank=patch_bank,
        camids=camids).tolist()


def test_no_rule_keeps_the_top_k():
    assert _select(rules=[]) == [[0, 1, 2]]


def test_reciprocal_rule():
    assert _select(rules=['reciprocal']) == [[0, 1, -1]]
    # A wider reciprocity check (entry 2's 3 nearest include 0) keeps both.
    assert _select(rules=['reciprocal'], reciprocal_k=3) == [[0, 1, 2]]


def test_threshold_rule():
    # cos 10 = 0.985, cos 25 = 0.906.
    assert _select(rules=['threshold'], threshold=0.95) == [[0, 1, -1]]
    assert _select(rules=['threshold'], threshold=0.9) == [[0, 1, 2]]


def test_patch_agreement_rule_and_combinations():
    # One patch whose nearest entries of 0 are 2 and 5.
    patch_bank = torch.zeros(7, 1, 2)
    patch_bank[:, 0, 0] = 1.0
    patch_bank[[2, 5], 0] = torch.tensor([0.99, 0.1])
    patch_bank[[1, 3, 4, 6], 0] = torch.tensor([0.0, 1.0])
    patch_bank = torch.nn.functional.normalize(patch_bank, dim=2)
    assert _select(rules=['patch'], patch_bank=patch_bank) == [[0, -1, 2]]
    assert _select(rules=['reciprocal', 'patch'], combine='any',
                   patch_bank=patch_bank) == [[0, 1, 2]]
    assert _select(rules=['reciprocal', 'patch'], combine='all',
                   patch_bank=patch_bank) == [[0, -1, -1]]
    with pytest.raises(ValueError, match='patch memory'):
        _select(rules=['patch'])


def test_camera_penalty_prefers_other_cameras():
    camids = torch.tensor([0, 0, 0, 1, 1, 1, 0])
    # 3 (90 degrees) and 4 (100) are the nearest of another camera.
    assert _select(rules=[], camids=camids, camera_penalty=1.5) == [[0, 3, 4]]
    assert _select(rules=[], camids=camids) == [[0, 1, 2]]


def test_cross_camera_reads_other_cameras_only():
    camids = torch.tensor([0, 0, 0, 1, 1, 1, 0])
    assert _select(rules=[], camids=camids, cross_camera=True) == [[0, 3, 4]]
    # Entry 0's other-camera nearest are 3 and 4; among entries of camera 0
    # 3's two nearest are 2 (65 degrees) and 6 (60), so 0 is not reciprocal,
    # while 4's (75 and 70 degrees to 2 and 6) miss 0 too; with a 4-wide
    # check both reach 0.
    assert _select(rules=['reciprocal'], camids=camids,
                   cross_camera=True) == [[0, -1, -1]]
    assert _select(rules=['reciprocal'], camids=camids, cross_camera=True,
                   reciprocal_k=4) == [[0, 3, 4]]
    # Only one entry of another camera: the second column stays empty.
    one_other = torch.tensor([0, 0, 0, 1, 0, 0, 0])
    assert _select(rules=[], camids=one_other,
                   cross_camera=True) == [[0, 3, -1]]
    with pytest.raises(ValueError, match=r'cross_camera=True\) needs'):
        _select(rules=[], cross_camera=True)


def test_cross_camera_is_an_unbeatable_camera_penalty():
    gen = torch.Generator().manual_seed(0)
    bank = torch.nn.functional.normalize(torch.randn(60, 8, generator=gen))
    camids = torch.randint(0, 3, (60, ), generator=gen)
    indices = torch.arange(60)
    strict = CredibleSampleSelector(
        num_neighbours=5, rules=['reciprocal'], cross_camera=True)
    # A penalty larger than any cosine gap ranks every same-camera entry
    # below every other-camera one.
    penalty = CredibleSampleSelector(
        num_neighbours=5, rules=['reciprocal'], camera_penalty=3.0)
    assert torch.equal(
        strict.select(indices, bank, camids=camids),
        penalty.select(indices, bank, camids=camids))
    assert 'cross_camera=True' in repr(strict)


def test_warmup_selects_no_neighbour():
    selector = CredibleSampleSelector(num_neighbours=2, warmup_epochs=2)
    assert selector.select(torch.tensor([0, 3]), BANK,
                           epoch=1).tolist() == [[0], [3]]
    assert selector.select(torch.tensor([0]), BANK,
                           epoch=2).shape == (1, 3)


def test_bad_settings_and_inputs():
    with pytest.raises(ValueError, match='rules'):
        CredibleSampleSelector(rules=['mutual'])
    with pytest.raises(ValueError, match='rules'):
        CredibleSampleSelector(rules='reciprocal')
    with pytest.raises(ValueError, match='combine'):
        CredibleSampleSelector(combine='most')
    with pytest.raises(IndexError, match='out of range'):
        CredibleSampleSelector().select(torch.tensor([7]), BANK)
    with pytest.raises(ValueError, match='fewer than 8 neighbours'):
        CredibleSampleSelector(num_neighbours=8).select(
            torch.tensor([0]), BANK)
