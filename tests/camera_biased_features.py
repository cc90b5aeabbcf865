"""Features whose camera bias outweighs their identity, for the tests of
camera centring (the one camera-aware option of every labeler and
sample selector)."""
import torch
import torch.nn.functional as F


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
