"""Exact k-nearest-neighbour search on L2-normalised features.

The pseudo labelers and the re-ranking need, for every sample, its ``k``
nearest neighbours in the same set (the sample itself included).
:func:`knn_search` normalises the features and hands them to one of the
interchangeable backends registered in ``KNN_BACKENDS``:

- ``'faiss'`` (:mod:`~mmreid_unsup.ops.knn_faiss`): exact inner-product
  search with faiss on CPU, or on a GPU when the installed faiss has GPU
  support and sees one (falling back to the CPU with a warning when the GPU
  search fails).
- ``'torch'`` (:mod:`~mmreid_unsup.ops.knn_torch`): blocked ``matmul`` +
  ``topk`` on the features' device, only the blocks on and above the
  diagonal of the symmetric similarity matrix: half the arithmetic of a
  flat index.
- ``'torch_bf16'`` (:mod:`~mmreid_unsup.ops.knn_certified_bf16`): the same
  symmetric search on bfloat16 copies of the features, whose candidates are
  re-scored in float32 and certified row by row against a bound on the
  rounding error; rows without the certificate are searched again
  exhaustively. The result is the float32 one, about twice as fast on CPUs
  with native bfloat16 products.

``backend='auto'`` picks what is fastest with what is installed and where the
features are: faiss when it can use a GPU; otherwise ``'torch_bf16'`` on a
CPU with native bfloat16 products
(:func:`~mmreid_unsup.ops.knn_certified_bf16.fast_bfloat16_matmul`), else
the float32 torch search on the features' device. With faiss-cpu installed
too, the torch search still wins: on the 2-core development machine the
symmetric float32 search took 9.5-10 s where faiss-cpu's flat search took
11-14.5 s, N = 12,936, D = 2048, same neighbours up to float32 rounding.

Nothing here assumes a GPU or a process group. Under DDP,
:class:`~mmreid_unsup.engine.hooks.ClusterRefreshHook` has a labeler that
can split its work (``DBSCANLabeler``) search on every rank, each rank a
share of the search, through
:func:`~mmreid_unsup.pseudo_labels.sharded_knn.sharded_knn_search`, which
builds on the pieces the backends offer for it (``'torch'`` and
``'torch_bf16'``: any subset of the blocks of the symmetric search;
``'faiss'``: any block of queries); other labelers run on rank 0 only and
the hook broadcasts their labels.

Every backend returns the ordering contract of
:mod:`~mmreid_unsup.ops.knn_ordering` (ties by the smaller index, the query
itself at rank 0), so a result does not depend on which library happens to
be installed.
"""
from typing import Callable, Tuple

import torch

from mmreid_unsup.registry import KNN_BACKENDS
from .feature_rows import l2_normalize
from .knn_certified_bf16 import fast_bfloat16_matmul
from .knn_faiss import faiss_gpu_count
from .knn_ordering import check_knn_inputs

__all__ = ['knn_search', 'knn_search_function']


def _resolve_backend(backend: str, features: torch.Tensor) -> Callable:
    """The search function of a backend name, ``'auto'`` resolved.

    Args:
        backend (str): a name registered in ``KNN_BACKENDS`` or ``'auto'``.
        features (Tensor): the features to search (their device decides
            ``'auto'``).

    Returns:
        Callable: ``search(features, k) -> (dists, indices)``.

    Raises:
        KeyError: for an unknown name.
    """
    if backend == 'auto':
        if faiss_gpu_count() > 0:
            backend = 'faiss'
        elif fast_bfloat16_matmul(features.device):
            backend = 'torch_bf16'
        else:
            backend = 'torch'
    search_fn = KNN_BACKENDS.get(backend)
    if search_fn is None:
        raise KeyError(f'unknown kNN backend {backend!r}; registered: '
                       f'{sorted(KNN_BACKENDS.module_dict)} (or "auto")')
    return search_fn


def knn_search(features: torch.Tensor,
               k: int,
               backend: str = 'auto') -> Tuple[torch.Tensor, torch.Tensor]:
    """Exact ``k`` nearest neighbours of every sample within the set.

    The features are L2-normalised here (again), so the squared L2 distance
    equals ``2 - 2 cos``. The query is its own first neighbour.

    Args:
        features (Tensor): ``(N, D)`` features.
        k (int): number of neighbours per sample, the sample itself included.
            Must satisfy ``1 <= k <= N``.
        backend (str): ``'faiss'``, ``'torch'``, ``'torch_bf16'``, any other
            name registered in ``KNN_BACKENDS``, or ``'auto'`` (faiss when
            it can use a GPU, else ``'torch_bf16'`` on a CPU with native
            bfloat16 products, else ``'torch'`` on the features' device).
            Defaults to ``'auto'``.

    Returns:
        tuple[Tensor, Tensor]: ``dists`` ``(N, k)`` float32 squared L2
        distances, non-decreasing along each row with ``dists[:, 0] == 0``,
        and ``indices`` ``(N, k)`` int64 with ``indices[i, 0] == i``.
    """
    check_knn_inputs(features, k)
    search_fn = _resolve_backend(backend, features)
    features = l2_normalize(features)
    return search_fn(features, int(k))


def knn_search_function(backend: str, features: torch.Tensor) -> Callable:
    """The search function :func:`knn_search` uses for these features.

    Args:
        backend (str): as for :func:`knn_search` (``'auto'`` is resolved).
        features (Tensor): the features to search.

    Returns:
        Callable: the function registered in ``KNN_BACKENDS``,
        ``search(features, k) -> (dists, indices)``.
    """
    return _resolve_backend(backend, features)
