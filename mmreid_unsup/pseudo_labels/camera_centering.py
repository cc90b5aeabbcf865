"""Camera-centred features: each camera's mean feature removed.

Features of one camera share a bias (its viewpoint, lighting, background),
so in the raw feature space images of different people seen by one camera
can be closer than images of one person seen by two. Clustering then forms
camera-bound clusters, or merges the people of a camera into one large
cluster. Removing each camera's mean feature before the neighbour search
takes that shared part away; it uses the camera ids only, never identities.
It is the clustering-time counterpart of camera-aware normalisation in
training (camera-based batch normalisation, Zhuang et al., ECCV 2020).

On the CUHK03 development training set (5,452 images, 10 cameras) with the
MSMT17 OSNet-x0.25 features, centring raised the ARI of Cluster-Contrast's
DBSCAN labels against the (hidden) true ids from 0.158 to 0.224 and shrank
the largest cluster from 4.6 % to 2.8 % of the set (``eps=0.6``).
"""
import torch
import torch.nn.functional as F

__all__ = ['camera_centered']


def camera_centered(features: torch.Tensor,
                    camids: torch.Tensor) -> torch.Tensor:
    """Subtract each camera's mean feature, then L2-normalise the rows.

    Args:
        features (Tensor): ``(N, D)`` features.
        camids (Tensor): ``(N,)`` integer camera ids (any values).

    Returns:
        Tensor: ``(N, D)`` float32 camera-centred unit features, on the
        features' device. The only image of a camera becomes the zero
        vector, equally far from every other image (it has no camera
        mates to be centred against), which makes it an outlier.
    """
    if camids.shape != (features.size(0), ):
        raise ValueError(f'camids must have shape ({features.size(0)},), '
                         f'got {tuple(camids.shape)}')
    feats = F.normalize(features.detach().float(), dim=1)
    _, cam_index = torch.unique(camids.to(feats.device), return_inverse=True)
    num_cams = int(cam_index.max()) + 1 if cam_index.numel() else 0
    sums = feats.new_zeros((num_cams, feats.size(1)))
    sums.index_add_(0, cam_index, feats)
    counts = torch.bincount(cam_index, minlength=num_cams).clamp_(min=1)
    centred = feats - (sums / counts[:, None].to(feats.dtype))[cam_index]
    return F.normalize(centred, dim=1)
