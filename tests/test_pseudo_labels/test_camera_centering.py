"""Camera-centred clustering features: camera bias out, identities kept."""
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import adjusted_rand_score

from mmreid_unsup.pseudo_labels import DBSCANLabeler, PseudoPairLabeler
from mmreid_unsup.pseudo_labels.camera_centering import camera_centered


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
