"""Pseudo labels: the per-epoch labelers and the checks of their labels.

A labeler (``PSEUDO_LABELERS``) turns the training set's features into
cluster labels (DBSCAN, InfoMap, k-means) or pseudo partners; it runs once
per refresh inside ``ClusterRefreshHook``. The neighbour operations the
labelers are built on live one layer below, in :mod:`mmreid_unsup.ops`; the
per-batch sample selectors of SCL and GSL are parts of their heads, in
:mod:`mmreid_unsup.models.sample_selectors`. Under DDP ``DBSCANLabeler``
splits its work over the ranks (:mod:`.sharded_knn`,
:mod:`.sharded_jaccard`, :mod:`.rank_shares`).
"""
from .base_labeler import BaseLabeler, relabel_contiguous
from .dbscan_labeler import DBSCANLabeler
from .degenerate_labels import (NO_CLUSTER_POLICIES, DegenerateLabelPolicy,
                                PolicyDecision, cluster_label_stats)
from .infomap_labeler import InfomapLabeler, knn_similarity_graph
from .kmeans_labeler import KMeansLabeler
from .label_quality import (outliers_as_singletons, pseudo_label_quality,
                            pseudo_pair_quality)
from .profiling import StageProfiler
from .pseudo_pair_labeler import PseudoPairLabeler, separation_index
from .sharded_jaccard import (sharded_jaccard_graph,
                              sharded_k_reciprocal_encoding)
from .sharded_knn import sharded_knn_search

__all__ = [
    'BaseLabeler', 'relabel_contiguous', 'DBSCANLabeler', 'InfomapLabeler',
    'KMeansLabeler', 'knn_similarity_graph', 'pseudo_label_quality',
    'outliers_as_singletons', 'StageProfiler', 'PseudoPairLabeler',
    'separation_index', 'pseudo_pair_quality', 'DegenerateLabelPolicy',
    'PolicyDecision', 'cluster_label_stats', 'NO_CLUSTER_POLICIES',
    'sharded_knn_search', 'sharded_k_reciprocal_encoding',
    'sharded_jaccard_graph'
]
