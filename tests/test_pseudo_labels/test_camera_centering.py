"""Camera centring, the one camera-aware option of every labeler and
selector: camera bias out, identities kept."""
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import adjusted_rand_score

from mmreid_unsup.pseudo_labels import (CredibleSampleSelector, DBSCANLabeler,
                                        NeighbourSelector, PseudoPairLabeler)
from mmreid_unsup.pseudo_labels.camera_centering import (camera_centered,
                                                         centred_on_memory)
from mmreid_unsup.pseudo_labels.infomap_labeler import infomap
from mmreid_unsup.registry import PSEUDO_LABELERS


def camera_biased_features(num_ids: int = 12, per_cam: int = 3,
                           num_cams: int = 2, bias: float = 1.5,
                           seed: int = 0):
    """Every identity seen by every camera; a camera's bias is larger than
    the distance between identities, so raw neighbours share a camera."""
    gen = torch.Generator().manual_seed(seed)
    dim = 64
    centres = F.normalize(torch.randn(num_ids, dim, generator=gen), dim=1)
    cam_bias = bias * F.normalize(torch.randn(num_cams, dim, generator=gen),
                                  dim=1)
    pids = torch.arange(num_ids).repeat_interleave(num_cams * per_cam)
    camids = torch.arange(num_cams).repeat_interleave(per_cam).repeat(num_ids)
    noise = 0.1 * torch.randn(len(pids), dim, generator=gen)
    feats = F.normalize(centres[pids] + cam_bias[camids] + noise, dim=1)
    return feats, pids, camids


def test_each_cameras_mean_is_removed():
    feats, _, camids = camera_biased_features()
    camids = camids * 7 + 3  # any camera values
    centred = camera_centered(feats, camids)
    assert centred.shape == feats.shape and centred.dtype == torch.float32
    torch.testing.assert_close(centred.norm(dim=1), torch.ones(len(feats)))
    # Before the final normalisation every camera averages to zero, so
    # afterwards each camera's mean is small next to the raw one.
    for cam in camids.unique():
        in_cam = camids == cam
        assert feats[in_cam].mean(0).norm() > 0.6
        assert centred[in_cam].mean(0).norm() < 0.05


def test_the_only_image_of_a_camera_becomes_zero():
    feats, _, camids = camera_biased_features()
    camids = camids.clone()
    camids[5] = 99
    centred = camera_centered(feats, camids)
    assert torch.equal(centred[5], torch.zeros(feats.size(1)))
    with pytest.raises(ValueError, match=r'camids must have shape \(72,\)'):
        camera_centered(feats, camids[:10])


def test_dbscan_finds_identities_instead_of_cameras():
    feats, pids, camids = camera_biased_features()
    raw = DBSCANLabeler(k1=8, k2=2, eps=0.5, min_samples=3)(feats, camids)
    centred_labeler = DBSCANLabeler(
        k1=8, k2=2, eps=0.5, min_samples=3, camera_centering=True)
    centred = centred_labeler(feats, camids)
    # Raw features: every cluster stays inside one camera (each identity
    # split in two); centred: clusters join an identity's two cameras.
    assert all(len(camids[raw == c].unique()) == 1 for c in raw.unique()
               if c >= 0)
    assert adjusted_rand_score(pids, raw) < 0.6
    assert adjusted_rand_score(pids, centred) > 0.9
    assert 'camera_centering=True' in repr(centred_labeler)


def test_centering_needs_the_cameras():
    feats, _, _ = camera_biased_features()
    for labeler in (DBSCANLabeler(camera_centering=True),
                    PseudoPairLabeler(camera_centering=True)):
        with pytest.raises(ValueError, match='camera_centering=True.*camera'):
            labeler(feats)


# --- One option, every labeler and selector -------------------------------


def test_every_registered_labeler_and_selector_takes_the_option():
    """The camera-aware option has one name for every labeler and selector
    of the package, so a config switches it on the same way for any
    method. (Test doubles other tests register are left out.)"""
    required = dict(KMeansLabeler=dict(num_clusters=2))
    names = [
        name for name, cls in PSEUDO_LABELERS.module_dict.items()
        if cls.__module__.startswith('mmreid_unsup.')
    ]
    assert {'DBSCANLabeler', 'NeighbourSelector',
            'CredibleSampleSelector', 'PseudoPairLabeler'} <= set(names)
    for name in names:
        if name == 'InfomapLabeler' and infomap is None:
            continue
        labeler = PSEUDO_LABELERS.build(
            dict(type=name, camera_centering=True, **required.get(name, {})))
        assert labeler.camera_centering is True, name
        assert 'camera_centering=True' in repr(labeler), name


def _same_camera_fraction(labels, camids):
    """Among the pairs of images that share a cluster, the fraction that
    share a camera as well."""
    same = labels[:, None] == labels[None, :]
    same &= (labels >= 0)[:, None]
    same.fill_diagonal_(False)
    return float((camids[:, None] == camids[None, :])[same].float().mean())


@pytest.mark.parametrize('cfg, min_ari', [
    (dict(type='DBSCANLabeler', k1=8, k2=2, eps=0.5, min_samples=3), 0.9),
    # k-means on 72 points lands in local minima (raw 0.25, centred 0.76).
    (dict(type='KMeansLabeler', num_clusters=12, seed=0), 0.6),
    pytest.param(
        dict(type='InfomapLabeler', k=6, min_sim=0.3),
        0.9,
        marks=pytest.mark.skipif(
            infomap is None, reason='infomap is not installed')),
])
def test_clusters_join_an_identitys_cameras(cfg, min_ari):
    feats, pids, camids = camera_biased_features()
    raw = torch.as_tensor(PSEUDO_LABELERS.build(cfg)(feats, camids))
    centred = torch.as_tensor(
        PSEUDO_LABELERS.build(dict(cfg, camera_centering=True))(feats,
                                                                  camids))
    # 3 images per identity and camera, 2 cameras: an identity's cluster
    # mates are 2 in its camera and 3 in the other (same-camera 0.4).
    assert _same_camera_fraction(raw, camids) > 0.9
    assert _same_camera_fraction(centred, camids) < 0.5
    assert adjusted_rand_score(pids, centred) > min_ari


def test_pseudo_pairs_cross_cameras():
    feats, pids, camids = camera_biased_features()
    labeler = dict(type='PseudoPairLabeler', max_partners=5, search_depth=8)
    for centring, cross_cam in ((False, (0.0, 0.1)), (True, (0.5, 1.0))):
        partners = PSEUDO_LABELERS.build(
            dict(labeler, camera_centering=centring))(feats, camids)
        rows, cols = torch.nonzero(partners >= 0, as_tuple=True)
        partner = partners[rows, cols]
        assert len(partner) > len(feats)
        cross = float((camids[partner] != camids[rows]).float().mean())
        assert cross_cam[0] <= cross <= cross_cam[1], (centring, cross)
        if centring:
            assert float((pids[partner] == pids[rows]).float().mean()) > 0.95
    # The cross-camera requirement: every partner from another camera.
    partners = PSEUDO_LABELERS.build(
        dict(labeler, camera_centering=True, cross_camera=True))(feats,
                                                                 camids)
    rows, cols = torch.nonzero(partners >= 0, as_tuple=True)
    assert len(rows) > len(feats) // 2
    assert bool((camids[partners[rows, cols]] != camids[rows]).all())


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


def test_batch_anchors_are_centred_by_the_memorys_cameras():
    """A batch is centred with the memory's camera means, so an anchor and
    its own memory entry stay identical after centring."""
    feats, _, camids = camera_biased_features()
    idx = torch.tensor([0, 7, 40])
    centred_bank = camera_centered(feats, camids)
    centred_batch = camera_centered(
        feats[idx], camids[idx], reference=feats, reference_camids=camids)
    torch.testing.assert_close(centred_batch, centred_bank[idx])
    # Part-based (N, S, D) features are centred part by part.
    parts = feats.view(len(feats), 4, -1)
    centred_parts = camera_centered(parts, camids)
    torch.testing.assert_close(centred_parts[:, 1],
                               camera_centered(parts[:, 1], camids))
    # A camera the reference has not seen keeps its direction.
    alone = camera_centered(
        feats[:1], torch.tensor([99]), reference=feats,
        reference_camids=camids)
    torch.testing.assert_close(alone, feats[:1])
    with pytest.raises(ValueError, match='reference_camids is required'):
        camera_centered(feats[:1], camids[:1], reference=feats)


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


def test_a_memory_and_its_queries_are_centred_alike():
    """Camera means from the memory's good entries only, applied to the
    memory and to the batch compared with it; an entry alone in its camera
    is reported as gone."""
    memory = F.normalize(torch.tensor([
        [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [float('nan'), 0.0, 0.0],
        [0.0, 0.0, 1.0], [0.6, 0.8, 0.0]]), dim=1)
    camids = torch.tensor([0, 0, 0, 1, 2])
    bad = torch.tensor([False, False, True, False, False])
    batch = F.normalize(torch.tensor([[1.0, 1.0, 1.0], [0.0, 1.0, 1.0]]),
                        dim=1)
    batch_cams = torch.tensor([0, 1])
    centred, (queries, ), gone = centred_on_memory(
        memory, camids, bad, [(batch, batch_cams)])
    mean0 = memory[:2].mean(0)  # the NaN entry of camera 0 left out
    assert torch.allclose(centred[0], F.normalize(memory[0] - mean0, dim=0))
    assert torch.allclose(queries[0], F.normalize(batch[0] - mean0, dim=0))
    assert torch.allclose(queries[1],
                          F.normalize(batch[1] - memory[3], dim=0))
    assert gone.tolist() == [False, False, False, True, True]


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
