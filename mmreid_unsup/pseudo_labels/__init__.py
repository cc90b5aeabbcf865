"""Pseudo labels: kNN search, k-reciprocal Jaccard distance, labelers."""
from .base_labeler import BaseLabeler, relabel_contiguous
from .dbscan_labeler import DBSCANLabeler
from .jaccard_distance import (compute_jaccard_distance,
                               expanded_k_reciprocal_neighbors,
                               jaccard_distance_from_encoding,
                               k_reciprocal_encoding, k_reciprocal_neighbors,
                               local_query_expansion)
from .knn import faiss_knn, is_faiss_available, knn_search, torch_knn

__all__ = [
    'BaseLabeler', 'relabel_contiguous', 'DBSCANLabeler',
    'compute_jaccard_distance', 'k_reciprocal_neighbors',
    'expanded_k_reciprocal_neighbors', 'k_reciprocal_encoding',
    'local_query_expansion', 'jaccard_distance_from_encoding', 'knn_search',
    'faiss_knn', 'torch_knn', 'is_faiss_available'
]
