"""A dense per-image reading of k-reciprocal re-ranking, and the
query / gallery features the re-ranking tests share."""
import numpy as np
import torch
import torch.nn.functional as F


def reference_rerank(q_feats, g_feats, k1, k2, lambda_value):
    """The module docstring's definition, with Python sets and dense
    arrays, one image at a time."""
    feats = F.normalize(torch.cat([q_feats, g_feats]).double(), dim=1)
    feats = feats.numpy()
    num, num_q = len(feats), len(q_feats)
    dist = np.clip(2 - 2 * feats @ feats.T, 0, None)
    ranking = [sorted(range(num), key=lambda j: (dist[i, j], j != i, j))
               for i in range(num)]
    initial = [r[:k1] for r in ranking]

    def reciprocal(i, k):
        width = min(k + 1, k1)
        return {j for j in initial[i][:width] if i in initial[j][:width]}

    half = int(np.around(k1 / 2))
    encoding = np.zeros((num, num))
    for i in range(num):
        full = reciprocal(i, k1)
        expanded = set(full)
        for c in full:
            candidate = reciprocal(c, half)
            if len(candidate & full) > 2 / 3 * len(candidate):
                expanded |= candidate
        members = sorted(expanded)
        weights = np.exp(-dist[i, members])
        encoding[i, members] = weights / weights.sum()
    encoding = np.stack(
        [encoding[initial[i][:k2]].mean(axis=0) for i in range(num)])
    final = np.zeros((num_q, num - num_q))
    for q in range(num_q):
        for g in range(num - num_q):
            m = np.minimum(encoding[q], encoding[num_q + g]).sum()
            jaccard = max(0.0, 1 - m / (2 - m))
            original = dist[q, num_q + g] / dist[q].max()
            final[q, g] = ((1 - lambda_value) * jaccard +
                           lambda_value * original)
    return final


def clustered_features(seed, num_q=12, num_g=40, num_ids=6, dim=8):
    gen = torch.Generator().manual_seed(seed)
    centres = torch.randn(num_ids, dim, generator=gen)
    q_pids = torch.arange(num_q) % num_ids
    g_pids = torch.arange(num_g) % num_ids
    q = centres[q_pids] + 0.8 * torch.randn(num_q, dim, generator=gen)
    g = centres[g_pids] + 0.8 * torch.randn(num_g, dim, generator=gen)
    return q, g, q_pids, g_pids
