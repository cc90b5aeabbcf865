from .base_proxy_selector import (BaseProxySelector, cluster_centroids,
                                  group_argmin)
from .inter_id_proxy_selector import InterIDProxySelector
from .intra_id_proxy_selector import IntraIDProxySelector

__all__ = [
    'BaseProxySelector', 'InterIDProxySelector', 'IntraIDProxySelector',
    'cluster_centroids', 'group_argmin'
]
