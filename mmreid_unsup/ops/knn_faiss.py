"""The ``'faiss'`` kNN backend: exact inner-product search with faiss.

On CPU ``faiss.knn`` searches by brute force without copying the features
into an index (the search of ``IndexFlatIP``); ``faiss.GpuIndexFlatIP`` is
used when the installed faiss has GPU support and sees a GPU. A failure on
the GPU (typically a CUDA version mismatch of a faiss-gpu wheel) falls back
to the CPU search with a warning instead of killing the run. Results follow
the ordering contract of :mod:`~mmreid_unsup.ops.knn_ordering`.

``rows=`` searches the neighbours of a block of queries only, against the
whole set: the ranks of a process group split the search this way
(:mod:`~mmreid_unsup.pseudo_labels.sharded_knn`). faiss's CPU search
multiplies its queries in blocks of :data:`FAISS_QUERY_BLOCK` rows; blocks
of queries that start at a multiple of it and hold at least one whole
block gave the very similarities of the whole search on the development
machine, other blocks differ from it in float32 rounding.

faiss is optional: without it :func:`is_faiss_available` is False and
:func:`faiss_knn` raises ``ImportError``. Importing this module imports
faiss, which must happen before ``infomap`` is imported (see
:mod:`~mmreid_unsup.pseudo_labels.infomap_labeler`).
"""
from typing import Optional, Tuple

import warnings

import numpy as np
import torch

from mmreid_unsup.registry import KNN_BACKENDS
from .knn_ordering import (check_knn_inputs, exact_topk_rows,
                           sort_and_put_self_first)

try:
    import faiss
except ImportError:  # pragma: no cover - exercised only without faiss
    faiss = None

__all__ = [
    'faiss_knn', 'is_faiss_available', 'faiss_gpu_count', 'FAISS_QUERY_BLOCK'
]

#: Queries per block of faiss's CPU search
#: (``faiss.cvar.distance_compute_blas_query_bs``).
FAISS_QUERY_BLOCK = 4096


def is_faiss_available() -> bool:
    """Whether the ``faiss`` package can be imported."""
    return faiss is not None


def faiss_gpu_count() -> int:
    """Number of GPUs the installed faiss can use (0 for faiss-cpu or none)."""
    if faiss is None or not hasattr(faiss, 'get_num_gpus'):
        return 0
    try:
        return int(faiss.get_num_gpus())
    except Exception:  # a broken CUDA runtime must not break the CPU path
        return 0


def _faiss_search(queries: np.ndarray, array: np.ndarray, k: int,
                  gpu_device: Optional[int]) -> Tuple[np.ndarray, np.ndarray]:
    """Exact inner-product search of ``queries`` in ``array`` with faiss.

    Args:
        queries (np.ndarray): ``(Q, D)`` float32 features (rows of
            ``array``).
        array (np.ndarray): ``(N, D)`` float32 features.
        k (int): neighbours per row.
        gpu_device (int, optional): the GPU to search on; None searches on
            the CPU.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(Q, k)`` similarities and indices.
    """
    if gpu_device is None:
        # Brute force without an index: no copy of the database.
        return faiss.knn(queries, array, k, metric=faiss.METRIC_INNER_PRODUCT)
    resources = faiss.StandardGpuResources()
    config = faiss.GpuIndexFlatConfig()
    config.device = gpu_device
    index = faiss.GpuIndexFlatIP(resources, array.shape[1], config)
    index.add(array)
    return index.search(queries, k)


@KNN_BACKENDS.register_module(name='faiss')
def faiss_knn(features: torch.Tensor,
              k: int,
              use_gpu: Optional[bool] = None,
              rows: Optional[slice] = None
              ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Exact kNN with faiss's flat inner-product index, on GPU or CPU.

    One extra neighbour is searched to detect ties that straddle rank ``k``;
    such rows (rare outside exact duplicates) are recomputed exactly in
    torch so that the cut follows the ordering contract
    (:mod:`~mmreid_unsup.ops.knn_ordering`).

    Args:
        features (Tensor): ``(N, D)`` L2-normalised features, any device.
        k (int): number of neighbours, the query included.
        use_gpu (bool, optional): search on a GPU (the features' one if they
            are on CUDA, else GPU 0). ``None`` (default) uses a GPU when the
            installed faiss sees one. When the GPU search fails, a warning is
            issued and the search is repeated on the CPU.
        rows (slice, optional): search the neighbours of these samples only
            (contiguous, step 1), among all samples. Defaults to None (every
            sample).

    Returns:
        tuple[Tensor, Tensor]: ``(R, k)`` float32 squared L2 distances and
        ``(R, k)`` int64 neighbour indices of the ``R`` samples searched
        (``R = N`` by default), on the features' device.
    """
    if faiss is None:
        raise ImportError('the faiss kNN backend needs the `faiss-cpu` (or '
                          '`faiss-gpu`) package; use backend="torch" instead')
    check_knn_inputs(features, k)
    num = features.size(0)
    feats = features.detach().float().cpu().contiguous()
    array = feats.numpy()
    first, last = (0, num) if rows is None else rows.indices(num)[:2]
    last = max(first, last)
    if last == first:
        device = features.device
        return (torch.empty((0, k), device=device),
                torch.empty((0, k), dtype=torch.long, device=device))
    queries = array if rows is None else array[first:last]
    search_k = min(k + 1, num)

    if use_gpu is None:
        use_gpu = faiss_gpu_count() > 0
    result = None
    if use_gpu:
        device = (features.device.index or 0) if features.is_cuda else 0
        try:
            result = _faiss_search(
                queries, array, search_k, gpu_device=device)
        except Exception as error:  # noqa: BLE001 - any GPU failure
            warnings.warn(
                f'faiss GPU search failed ({type(error).__name__}: {error}); '
                'falling back to the CPU search. Install a faiss-gpu build '
                'that matches your CUDA, or use knn_backend="torch" to search '
                'on the GPU with PyTorch.',
                RuntimeWarning,
                stacklevel=2)
    if result is None:
        result = _faiss_search(queries, array, search_k, gpu_device=None)
    sims = torch.from_numpy(result[0])
    indices = torch.from_numpy(result[1]).long()

    if search_k > k:
        straddling = (sims[:, k] == sims[:, k - 1]).nonzero().flatten()
        sims, indices = sims[:, :k].clone(), indices[:, :k].clone()
        if straddling.numel() > 0:
            row_sims = feats[straddling + first] @ feats.t()
            sims[straddling], indices[straddling] = exact_topk_rows(
                row_sims, k)

    dists, indices = sort_and_put_self_first(sims, indices,
                                             torch.arange(first, last))
    return dists.to(features.device), indices.to(features.device)
