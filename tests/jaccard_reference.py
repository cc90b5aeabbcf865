"""Reference implementations of the k-reciprocal Jaccard distance, for tests.

Two independent readings of the published algorithm (Zhong et al., CVPR
2017, as Cluster-Contrast's ``faiss_rerank.compute_jaccard_distance`` runs
it), both dense and slow on purpose:

- :func:`brute_force_jaccard`: loops, Python sets, float64 throughout
  (``N`` up to about 100).
- :func:`dense_jaccard`: the dense ``(N, N)`` numpy formulation of the
  public code (dense encoding ``V``, inverted index per column, a Python
  loop per row), for a few hundred samples.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F


def clustered_features(num_clusters: int, per_cluster: int, dim: int,
                       spread: float, seed: int) -> torch.Tensor:
    """Gaussian blobs around random centres, L2-normalised, shuffled."""
    gen = torch.Generator().manual_seed(seed)
    centres = torch.randn(num_clusters, dim, generator=gen)
    feats = centres.repeat_interleave(per_cluster, dim=0)
    feats = feats + spread * torch.randn(feats.shape, generator=gen)
    perm = torch.randperm(feats.size(0), generator=gen)
    return F.normalize(feats[perm], dim=1)


def noisy_blobs(seed: int) -> torch.Tensor:
    """Blobs of varied size and spread plus lone points: DBSCAN finds
    clusters, border points and noise."""
    gen = torch.Generator().manual_seed(seed)
    sizes = torch.randint(2, 14, (40, ), generator=gen)
    spreads = 0.2 + 0.5 * torch.rand(40, generator=gen)
    centres = torch.randn(40, 16, generator=gen)
    feats = torch.cat([
        c + s * torch.randn(int(n), 16, generator=gen)
        for c, s, n in zip(centres, spreads, sizes)
    ] + [torch.randn(20, 16, generator=gen)])
    return F.normalize(feats[torch.randperm(len(feats), generator=gen)], dim=1)


def brute_force_jaccard(feats, k1: int, k2: int) -> np.ndarray:
    """Cluster-Contrast's ``compute_jaccard_distance`` read plainly.

    Args:
        feats (list[list[float]]): L2-normalised features.
        k1 (int): k-reciprocal neighbourhood size.
        k2 (int): local query expansion size.

    Returns:
        np.ndarray: ``(N, N)`` float64 distances.
    """
    n = len(feats)
    sq_dist = [[
        sum((feats[i][d] - feats[j][d])**2 for d in range(len(feats[i])))
        for j in range(n)
    ] for i in range(n)]
    # initial_rank: k1 columns, nearest first (the sample itself at distance
    # 0 comes first), ties by index.
    initial_rank = [
        sorted(range(n), key=lambda j: (sq_dist[i][j], j))[:k1]
        for i in range(n)
    ]

    def k_reciprocal(i, k):
        forward = initial_rank[i][:k + 1]
        return [j for j in forward if i in initial_rank[j][:k + 1]]

    half = int(np.around(k1 / 2))
    r_full = [k_reciprocal(i, k1) for i in range(n)]
    r_half = [k_reciprocal(i, half) for i in range(n)]

    V = [[0.0] * n for _ in range(n)]
    for i in range(n):
        expansion = set(r_full[i])
        for c in r_full[i]:
            overlap = len(set(r_half[c]) & set(r_full[i]))
            if overlap > 2 / 3 * len(r_half[c]):
                expansion |= set(r_half[c])
        dot = {
            j: sum(a * b for a, b in zip(feats[i], feats[j]))
            for j in expansion
        }
        denom = sum(math.exp(-(2 - 2 * dot[j])) for j in expansion)
        for j in expansion:
            V[i][j] = math.exp(-(2 - 2 * dot[j])) / denom

    if k2 != 1:
        V = [[
            sum(V[j][col] for j in initial_rank[i][:k2]) / k2
            for col in range(n)
        ] for i in range(n)]

    out = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            common = sum(min(V[i][col], V[j][col]) for col in range(n))
            out[i, j] = max(0.0, 1 - common / (2 - common))
    return out


def dense_jaccard(features: torch.Tensor, k1: int, k2: int) -> np.ndarray:
    """The dense formulation of the public code, in float64.

    Args:
        features (Tensor): ``(N, D)`` L2-normalised features.
        k1 (int): k-reciprocal neighbourhood size.
        k2 (int): local query expansion size.

    Returns:
        np.ndarray: ``(N, N)`` float64 distances.
    """
    feats = features.double().numpy()
    num = len(feats)
    original_dist = 2 - 2 * feats @ feats.T
    ranking = original_dist.copy()
    np.fill_diagonal(ranking, -1)  # the sample itself first
    initial_rank = np.argsort(ranking, axis=1, kind='stable')[:, :k1]

    def k_reciprocal(i, k):
        forward = initial_rank[i, :k + 1]
        backward = initial_rank[forward, :k + 1]
        return forward[np.where(backward == i)[0]]

    half = int(np.around(k1 / 2))
    V = np.zeros((num, num))
    for i in range(num):
        reciprocal = k_reciprocal(i, k1)
        expansion = reciprocal
        for candidate in reciprocal:
            candidate_set = k_reciprocal(candidate, half)
            overlap = len(np.intersect1d(candidate_set, reciprocal))
            if overlap > 2 / 3 * len(candidate_set):
                expansion = np.append(expansion, candidate_set)
        expansion = np.unique(expansion)
        weight = np.exp(-original_dist[i, expansion])
        V[i, expansion] = weight / weight.sum()

    if k2 != 1:
        V = np.stack([V[initial_rank[i, :k2]].mean(axis=0)
                      for i in range(num)])

    inverted = [np.where(V[:, col] != 0)[0] for col in range(num)]
    jaccard = np.zeros((num, num))
    for i in range(num):
        min_sums = np.zeros(num)
        for col in np.where(V[i] != 0)[0]:
            rows = inverted[col]
            min_sums[rows] += np.minimum(V[i, col], V[rows, col])
        jaccard[i] = 1 - min_sums / (2 - min_sums)
    return np.maximum(jaccard, 0)
