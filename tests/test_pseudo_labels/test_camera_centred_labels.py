"""Camera centring in the labelers: clusters and partners join an
identity's cameras; one option name for every labeler and selector."""
import pytest
import torch
from camera_biased_features import camera_biased_features
from sklearn.metrics import adjusted_rand_score

from mmreid_unsup.models import sample_selectors
from mmreid_unsup.pseudo_labels import DBSCANLabeler, PseudoPairLabeler
from mmreid_unsup.pseudo_labels.infomap_labeler import infomap
from mmreid_unsup.registry import MODELS, PSEUDO_LABELERS


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


def test_every_registered_labeler_and_selector_takes_the_option():
    """The camera-aware option has one name for every labeler and selector
    of the package, so a config switches it on the same way for any
    method. (Test doubles other tests register are left out.)"""
    required = dict(KMeansLabeler=dict(num_clusters=2))
    # The labelers in PSEUDO_LABELERS, the sample selectors in MODELS.
    parts = [(PSEUDO_LABELERS, name)
             for name, cls in PSEUDO_LABELERS.module_dict.items()
             if cls.__module__.startswith('mmreid_unsup.')]
    parts += [(MODELS, name) for name, cls in MODELS.module_dict.items()
              if cls.__module__.startswith(sample_selectors.__name__)]
    assert {'DBSCANLabeler', 'NeighbourSelector', 'CredibleSampleSelector',
            'PseudoPairLabeler'} <= {name for _, name in parts}
    for registry, name in parts:
        if name == 'InfomapLabeler' and infomap is None:
            continue
        labeler = registry.build(
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
