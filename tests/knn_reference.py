"""Reference kNN for the kNN backend tests: float64, full sort."""
import torch
import torch.nn.functional as F


def random_features(num: int, dim: int, seed: int = 0) -> torch.Tensor:
    """``num`` L2-normalised Gaussian features."""
    gen = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(num, dim, generator=gen), dim=1)


def brute_force(features: torch.Tensor, k: int):
    """Full float64 sort of 2 - 2cos, stable so ties go to smaller index,
    the query itself first."""
    feats = features.double()
    dist = 2 - 2 * feats @ feats.t()
    dist.fill_diagonal_(-1)  # self first
    order = torch.sort(dist, dim=1, stable=True).indices[:, :k]
    return dist.clamp(min=0).gather(1, order), order
