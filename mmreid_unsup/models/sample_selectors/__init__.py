"""Per-batch sample selectors: the memory entries each anchor learns from.

Unlike the pseudo labelers (:mod:`mmreid_unsup.pseudo_labels`), run once
per refresh by ``ClusterRefreshHook``, a sample selector is part of a head
and called on every batch with the head's instance memories: SCL's
:class:`NeighbourSelector` (positives and hard negatives) and GSL's
:class:`CredibleSampleSelector` (credible samples). Both are registered in
``MODELS`` and built by their heads with ``MODELS.build``, like the proxy
selectors of :mod:`mmreid_unsup.models.proxy_selectors`.
"""
from .credible_sample_selector import CredibleSampleSelector
from .neighbour_selector import NeighbourSelection, NeighbourSelector

__all__ = ['CredibleSampleSelector', 'NeighbourSelection', 'NeighbourSelector']
