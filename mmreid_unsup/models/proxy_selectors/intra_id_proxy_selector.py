"""GRACL's intra-ID relation-aware proxy: the member least like its cluster."""
import torch

from mmreid_unsup.registry import MODELS
from .base_proxy_selector import BaseProxySelector


@MODELS.register_module()
class IntraIDProxySelector(BaseProxySelector):
    """The member least similar to the other members of its own cluster.

    At a refresh, sample ``i`` of cluster ``k`` (members ``C_k``) scores its
    mean cosine similarity to the other members::

        q_i = mean_{j in C_k, j != i} f_i . f_j

    and the member of lowest ``q_i`` (the hardest positive) becomes the
    intra-ID proxy. With cluster sums ``S_k`` this is
    ``(f_i . S_k - |f_i|^2) / (|C_k| - 1)``: linear in ``N``, no pairwise
    matrix. For unit features it ranks members exactly as the cosine
    similarity to the cluster centroid does, so a "centroid" variant would
    pick the same members and is not offered. A singleton cluster's only
    member is its proxy.

    In a batch the score is the similarity to the cluster's current proxy,
    ``f_i . P_k``: the rule of Cluster-Contrast's ``CM_Hard`` (which uses
    the centroid instead of a proxy).
    """

    def refresh_scores(self, features: torch.Tensor, labels: torch.Tensor,
                       num_clusters: int) -> torch.Tensor:
        sums = features.new_zeros(num_clusters, features.shape[1])
        sums.index_add_(0, labels, features)
        counts = torch.bincount(labels, minlength=num_clusters)
        to_own = (features * sums[labels]).sum(dim=1) - (features *
                                                         features).sum(dim=1)
        others = (counts[labels] - 1).clamp(min=1).to(features.dtype)
        return to_own / others

    def batch_scores(self, feats: torch.Tensor, labels: torch.Tensor,
                     proxies: torch.Tensor) -> torch.Tensor:
        return (feats * proxies[labels].to(feats.dtype)).sum(dim=1)
