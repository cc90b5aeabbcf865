"""Camera centring: camera bias out, identities kept."""
import pytest
import torch
import torch.nn.functional as F
from camera_biased_features import camera_biased_features

from mmreid_unsup.ops import camera_centered, centred_on_memory


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
