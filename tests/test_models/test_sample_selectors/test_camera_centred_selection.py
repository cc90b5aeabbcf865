"""Camera centring in the per-batch sample selectors: positives and
credible samples from an identity's other cameras, bad and lonely memory
entries kept out of the camera means."""
import pytest
import torch
import torch.nn.functional as F
from camera_biased_features import camera_biased_features

from mmreid_unsup.models.sample_selectors import (CredibleSampleSelector,
                                                  NeighbourSelector)


def _positives_stats(positives, pids, camids):
    rows = torch.arange(len(positives))[:, None].expand_as(positives)
    valid = positives >= 0
    partner, anchor = positives[valid], rows[valid]
    return (float((pids[partner] == pids[anchor]).float().mean()),
            float((camids[partner] != camids[anchor]).float().mean()))


@pytest.mark.parametrize('centring', [False, True])
def test_scl_neighbours_cross_cameras(centring):
    feats, pids, camids = camera_biased_features()
    stripes = F.normalize(feats.view(len(feats), 2, -1), dim=-1)
    selector = NeighbourSelector(
        num_positives=5, num_negatives=10, lambda_c=0.0, warmup_epochs=0,
        camera_centering=centring)
    idx = torch.arange(len(feats))
    positives = selector.select(feats, stripes, idx, feats, stripes, camids,
                                epoch=0).positives[:, 1:]
    precision, cross = _positives_stats(positives, pids, camids)
    # 5 positives: raw = the 2 camera mates of the identity and 3 strangers
    # of its camera; centred = the identity's 5 other images.
    if centring:
        assert precision > 0.95 and cross > 0.5
    else:
        assert precision < 0.6 and cross < 0.05


@pytest.mark.parametrize('centring', [False, True])
def test_gsl_credible_samples_cross_cameras(centring):
    feats, pids, camids = camera_biased_features()
    selector = CredibleSampleSelector(
        num_neighbours=5, rules=(), camera_centering=centring)
    credible = selector.select(
        torch.arange(len(feats)), feats, camids=camids)[:, 1:]
    precision, cross = _positives_stats(credible, pids, camids)
    if centring:
        assert precision > 0.95 and cross > 0.5
    else:
        assert precision < 0.6 and cross < 0.05


@pytest.mark.parametrize('selector', [
    CredibleSampleSelector(num_neighbours=3, camera_centering=True),
])
def test_selectors_need_the_cameras(selector):
    feats, _, _ = camera_biased_features()
    with pytest.raises(ValueError, match='camera_centering=True.*camer'):
        selector.select(torch.arange(4), feats)


def test_bad_memory_rows_do_not_reach_the_camera_means():
    """A NaN entry would make its camera's mean NaN and every neighbour of
    that camera meaningless: the means come from the good entries only."""
    feats, pids, camids = camera_biased_features()
    feats = feats.clone()
    feats[3] = float('nan')
    stripes = F.normalize(feats.view(len(feats), 2, -1), dim=-1)
    idx = torch.arange(len(feats))
    ok = idx != 3  # the NaN entry's own selection is meaningless
    scl = NeighbourSelector(
        num_positives=5, num_negatives=10, lambda_c=0.0, warmup_epochs=0,
        camera_centering=True).select(feats, stripes, idx, feats, stripes,
                                      camids, 0).positives
    gsl = CredibleSampleSelector(
        num_neighbours=5, rules=(), camera_centering=True).select(
            idx, feats, camids=camids)
    for positives in (scl[:, 1:], gsl[:, 1:]):
        positives = positives.masked_fill(~ok[:, None], -1)
        assert not bool((positives == 3).any())
        assert _positives_stats(positives, pids, camids)[0] > 0.9


def test_the_only_entry_of_a_camera_is_never_everyones_positive():
    """Centred with its own camera's mean, a camera's only memory entry is
    the zero vector, equally close to every anchor: the selectors treat it
    as a bad entry instead of ranking it first for everybody."""
    feats, pids, camids = camera_biased_features()
    camids = camids.clone()
    camids[7] = 99  # the only image of camera 99
    stripes = F.normalize(feats.view(len(feats), 2, -1), dim=-1)
    idx = torch.arange(len(feats))
    scl = NeighbourSelector(
        num_positives=5, num_negatives=10, lambda_c=0.0, warmup_epochs=0,
        camera_centering=True).select(feats, stripes, idx, feats, stripes,
                                      camids, 0)
    gsl = CredibleSampleSelector(
        num_neighbours=5, rules=(), camera_centering=True).select(
            idx, feats, camids=camids)
    others = idx != 7
    for positives in (scl.positives[others, 1:], gsl[others, 1:]):
        assert not bool((positives == 7).any())
    assert not bool((scl.negatives[others] == 7).any())
    # Its own selection falls back to itself (SCL) / nothing (GSL).
    assert scl.positives[7].tolist() == [7] * 6
    assert gsl[7, 1:].tolist() == [-1] * 5
