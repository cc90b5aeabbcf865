"""GRACL's intra-ID relation-aware proxy: the member least like its cluster."""
import torch

from mmreid_unsup.registry import MODELS
from .base_proxy_selector import BaseProxySelector, cluster_centroids


@MODELS.register_module()
class IntraIDProxySelector(BaseProxySelector):
    """The member least similar to its own cluster: one rule, the lowest
    cosine similarity to the cluster's centroid, at a refresh and in a
    batch.

    The rule scores sample ``i`` of cluster ``k`` by ``f_i . c_k``, where
    ``c_k`` is the L2-normalised mean feature of the cluster, and the member
    of lowest score is the intra-ID proxy (the hardest positive):

    - at a refresh, ``c_k`` is the exact centroid of the clustering
      features. For unit features ``f_i . c_k`` ranks the members exactly
      as their mean similarity to the other members,
      ``mean_{j in C_k, j != i} f_i . f_j = (|S_k| f_i . c_k - 1) /
      (|C_k| - 1)`` with ``S_k`` the cluster sum, i.e. the abstract's "least
      similar to samples from the same cluster"; linear in ``N``, no
      pairwise matrix. A singleton cluster's only member is its proxy;
    - in a batch, only a few members of each cluster are present, so
      ``c_k`` is ``ProxyMemory``'s running estimate of the centroid (set to
      the exact centroid at the refresh and moved towards the mean of each
      batch's members). The member of each cluster in the batch least
      similar to it moves the proxy.

    Fed the clustering features themselves as a batch, right after a
    refresh, the batch rule therefore picks the refresh's proxies again.
    """

    def refresh_scores(self, features: torch.Tensor, labels: torch.Tensor,
                       num_clusters: int) -> torch.Tensor:
        return self._to_centroid(
            features, labels,
            cluster_centroids(features, labels, num_clusters))

    def batch_scores(self, feats: torch.Tensor, labels: torch.Tensor,
                     proxies: torch.Tensor,
                     centroids: torch.Tensor) -> torch.Tensor:
        return self._to_centroid(feats, labels, centroids)

    @staticmethod
    def _to_centroid(feats: torch.Tensor, labels: torch.Tensor,
                     centroids: torch.Tensor) -> torch.Tensor:
        """The rule: each sample's cosine similarity to its centroid."""
        return (feats * centroids[labels].to(feats.dtype)).sum(dim=1)
