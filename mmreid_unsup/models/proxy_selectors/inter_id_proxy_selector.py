"""GRACL's inter-ID relation-aware proxy: the member farthest from the
other identities."""
import torch

from mmreid_unsup.registry import MODELS
from .base_proxy_selector import BaseProxySelector, cluster_centroids


@MODELS.register_module()
class InterIDProxySelector(BaseProxySelector):
    """The member most separated from every other cluster.

    At a refresh, sample ``i`` of cluster ``k`` scores its similarity to the
    nearest sample of any *other* cluster::

        r_i = max_{j in C_k', k' != k} f_i . f_j      (relation='sample')
        r_i = max_{k' != k} f_i . c_k'                 (relation='centroid')

    where ``c_k'`` is the L2-normalised mean of cluster ``k'``; the member of
    lowest ``r_i`` becomes the inter-ID proxy. Outliers (label ``-1``)
    belong to no identity and are not compared with. ``'sample'`` is the
    global relation to every other sample, ``O(N^2 D)`` time, computed in
    row chunks of ``chunk_size`` so memory stays ``O(chunk_size * N)``;
    ``'centroid'`` is the cheaper ``O(N K D)`` variant. With a single
    cluster there is no other identity: every member ties and the first is
    taken.

    In a batch (``ProxyMemory``'s momentum update) the same relation is
    taken to what the memory holds of the other clusters: with
    ``'centroid'`` their running centroid estimates,
    ``max_{k' != k} f_i . c_k'`` (exactly the refresh's rule, since the
    estimates start as the refresh's centroids); with ``'sample'`` their
    current proxies, ``max_{k' != k} f_i . P_k'``, the only samples of the
    other clusters the memory keeps (an estimate of the refresh's nearest
    other sample).

    Args:
        relation (str): ``'sample'`` or ``'centroid'``. Defaults to
            ``'sample'``.
        chunk_size (int): Rows per similarity block. Defaults to 1024
            (a 1024 x 32k block of MSMT17 takes 128 MiB).
    """

    relations = ('sample', 'centroid')

    def __init__(self,
                 relation: str = 'sample',
                 chunk_size: int = 1024) -> None:
        super().__init__()
        if relation not in self.relations:
            raise ValueError(f'InterIDProxySelector: relation must be one of '
                             f'{self.relations}, got {relation!r}')
        if chunk_size < 1:
            raise ValueError('InterIDProxySelector: chunk_size must be >= 1, '
                             f'got {chunk_size}')
        self.relation = relation
        self.chunk_size = chunk_size

    def refresh_scores(self, features: torch.Tensor, labels: torch.Tensor,
                       num_clusters: int) -> torch.Tensor:
        if self.relation == 'sample':
            return self._nearest_other(features, labels, features, labels)
        centroids = cluster_centroids(features, labels, num_clusters)
        return self._nearest_other(
            features, labels, centroids,
            torch.arange(num_clusters, device=labels.device))

    def batch_scores(self, feats: torch.Tensor, labels: torch.Tensor,
                     proxies: torch.Tensor,
                     centroids: torch.Tensor) -> torch.Tensor:
        refs = proxies if self.relation == 'sample' else centroids
        return self._nearest_other(
            feats, labels, refs.to(feats.dtype),
            torch.arange(refs.shape[0], device=labels.device))

    def _nearest_other(self, feats: torch.Tensor, labels: torch.Tensor,
                       refs: torch.Tensor,
                       ref_labels: torch.Tensor) -> torch.Tensor:
        """Each row's highest similarity to a reference of another cluster
        (``-inf`` when there is none)."""
        scores = feats.new_empty(feats.shape[0])
        for start in range(0, feats.shape[0], self.chunk_size):
            stop = start + self.chunk_size
            sims = feats[start:stop] @ refs.t()
            same = labels[start:stop, None] == ref_labels[None, :]
            sims.masked_fill_(same, float('-inf'))
            scores[start:stop] = sims.max(dim=1).values
        return scores

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(relation={self.relation!r}, '
                f'chunk_size={self.chunk_size})')
