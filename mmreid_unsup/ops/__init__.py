"""Neighbour operations on feature matrices: the bottom layer.

kNN search (:mod:`.knn`, with the exact ``'torch'``, ``'torch_bf16'`` and
``'faiss'`` backends and the approximate ``'faiss_hnsw'`` one registered in
``KNN_BACKENDS``), the k-reciprocal
encoding (:mod:`.k_reciprocal`), the Jaccard distance between encodings,
dense (:mod:`.jaccard_distance`) and sparse (:mod:`.sparse_jaccard`), the
k-reciprocal re-ranking of a query-gallery distance (:mod:`.reranking`)
and camera centring (:mod:`.camera_centering`).

The pseudo labelers (:mod:`mmreid_unsup.pseudo_labels`), the per-batch
sample selectors (:mod:`mmreid_unsup.models.sample_selectors`) and the
evaluation build on these functions; this package imports none of them
(only torch, numpy, scipy, faiss, :mod:`mmreid_unsup.registry` and
:mod:`mmreid_unsup.utils`), which ``tests/test_layering.py`` checks.
"""
# knn_faiss first: faiss must be imported before infomap (see
# mmreid_unsup.pseudo_labels.infomap_labeler).
from .knn_faiss import faiss_gpu_count, faiss_knn, is_faiss_available
from .camera_centering import (camera_centered, camera_means,
                               centred_on_memory, vanished_rows)
from .feature_rows import l2_normalize, pair_inner_products
from .jaccard_distance import (compute_jaccard_distance,
                               jaccard_distance_from_encoding)
from .k_reciprocal import (expanded_k_reciprocal_neighbors,
                           k_reciprocal_encoding, k_reciprocal_neighbors,
                           local_query_expansion)
from .knn import APPROXIMATE_ABOVE, knn_search
from .knn_certified_bf16 import bf16_knn, fast_bfloat16_matmul
from .knn_faiss_approximate import faiss_hnsw_knn
from .knn_torch import torch_knn
from .reranking import k_reciprocal_rerank, k_reciprocal_rerank_blocks
from .sparse_jaccard import (compute_sparse_jaccard_distance,
                             sparse_jaccard_from_encoding)

__all__ = [
    'knn_search', 'APPROXIMATE_ABOVE', 'torch_knn', 'bf16_knn', 'faiss_knn',
    'faiss_hnsw_knn', 'is_faiss_available', 'faiss_gpu_count',
    'fast_bfloat16_matmul', 'l2_normalize',
    'pair_inner_products', 'k_reciprocal_neighbors',
    'expanded_k_reciprocal_neighbors', 'k_reciprocal_encoding',
    'local_query_expansion', 'compute_jaccard_distance',
    'jaccard_distance_from_encoding', 'compute_sparse_jaccard_distance',
    'sparse_jaccard_from_encoding', 'k_reciprocal_rerank',
    'k_reciprocal_rerank_blocks', 'camera_centered', 'camera_means',
    'centred_on_memory', 'vanished_rows'
]
