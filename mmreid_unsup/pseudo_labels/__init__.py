"""Pseudo labels: kNN search, k-reciprocal Jaccard distance, labelers."""
from .bad_features import (BAD_FEATURE_POLICIES, BadFeatureRows,
                           find_bad_feature_rows)
from .certified_knn import bf16_knn
from .base_labeler import BaseLabeler, relabel_contiguous
from .credible_selector import CredibleSampleSelector
from .dbscan_labeler import DBSCANLabeler
from .degenerate_labels import (NO_CLUSTER_POLICIES, DegenerateLabelPolicy,
                                PolicyDecision, cluster_label_stats)
from .infomap_labeler import InfomapLabeler, knn_similarity_graph
from .jaccard_distance import (compute_jaccard_distance,
                               expanded_k_reciprocal_neighbors,
                               jaccard_distance_from_encoding,
                               k_reciprocal_encoding, k_reciprocal_neighbors,
                               local_query_expansion)
from .kmeans_labeler import KMeansLabeler
from .knn import (fast_bfloat16_matmul, faiss_gpu_count, faiss_knn,
                  is_faiss_available, knn_search, l2_normalize,
                  pair_inner_products, torch_knn)
from .label_quality import (outliers_as_singletons, pseudo_label_quality,
                            pseudo_pair_quality)
from .neighbour_selector import NeighbourSelection, NeighbourSelector
from .profiling import StageProfiler
from .pseudo_pair_labeler import PseudoPairLabeler, separation_index
from .sparse_jaccard import (compute_sparse_jaccard_distance,
                             sparse_jaccard_from_encoding)

__all__ = [
    'BaseLabeler', 'relabel_contiguous', 'DBSCANLabeler', 'InfomapLabeler',
    'KMeansLabeler', 'knn_similarity_graph', 'compute_jaccard_distance',
    'k_reciprocal_neighbors', 'expanded_k_reciprocal_neighbors',
    'k_reciprocal_encoding', 'local_query_expansion',
    'jaccard_distance_from_encoding', 'compute_sparse_jaccard_distance',
    'sparse_jaccard_from_encoding', 'knn_search', 'faiss_knn', 'torch_knn',
    'is_faiss_available', 'faiss_gpu_count', 'pseudo_label_quality',
    'outliers_as_singletons', 'StageProfiler', 'l2_normalize',
    'NeighbourSelector', 'NeighbourSelection', 'PseudoPairLabeler',
    'separation_index', 'pseudo_pair_quality', 'CredibleSampleSelector',
    'DegenerateLabelPolicy', 'PolicyDecision', 'cluster_label_stats',
    'NO_CLUSTER_POLICIES', 'bf16_knn', 'fast_bfloat16_matmul',
    'pair_inner_products', 'BAD_FEATURE_POLICIES', 'BadFeatureRows',
    'find_bad_feature_rows'
]
