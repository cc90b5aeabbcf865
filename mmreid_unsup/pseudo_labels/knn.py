"""Exact k-nearest-neighbour search on L2-normalised features.

The pseudo labelers need, for every sample, its ``k`` nearest neighbours in
the same set (the sample itself included). Two interchangeable backends are
registered in ``KNN_BACKENDS``:

- ``'faiss'``: ``faiss.IndexFlatIP`` on CPU (exact inner-product search);
- ``'torch'``: a chunked ``matmul`` + ``topk`` on the features' device.

Both return the same contract, so a result does not depend on which library
happens to be installed:

- neighbours are ordered by increasing squared L2 distance ``2 - 2 cos``;
  equal distances are ordered by increasing index, and the set cut at rank
  ``k`` is decided by the same rule (a tie that straddles rank ``k`` keeps the
  smaller indices);
- the query itself is always at rank 0 with distance 0, even when exact
  duplicates of it exist.
"""
from typing import Callable, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from mmreid_unsup.registry import KNN_BACKENDS

try:
    import faiss
except ImportError:  # pragma: no cover - exercised only without faiss
    faiss = None

__all__ = ['knn_search', 'faiss_knn', 'torch_knn', 'is_faiss_available']

#: Upper bound on the number of similarity entries a chunk of the torch
#: backend materialises at once (``chunk_rows * N``), about 128 MB in float32.
_MAX_CHUNK_ELEMENTS = 1 << 25


def is_faiss_available() -> bool:
    """Whether the ``faiss`` package can be imported."""
    return faiss is not None


def _check_inputs(features: torch.Tensor, k: int) -> None:
    if features.dim() != 2:
        raise ValueError('features must have shape (N, D), got '
                         f'{tuple(features.shape)}')
    num = features.size(0)
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f'k must be a positive integer, got {k!r}')
    if k > num:
        raise ValueError(f'k={k} neighbours requested but there are only '
                         f'N={num} samples (the sample itself counts as its '
                         'first neighbour)')


def _sort_and_put_self_first(sims: torch.Tensor, indices: torch.Tensor,
                             query_ids: torch.Tensor
                             ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Order each row by (similarity desc, index asc) with the query first.

    Args:
        sims (Tensor): ``(B, k)`` similarities of the selected neighbours.
        indices (Tensor): ``(B, k)`` their indices (int64).
        query_ids (Tensor): ``(B,)`` the index of each query row.

    Returns:
        tuple[Tensor, Tensor]: squared L2 distances ``(B, k)`` (float32,
        clamped at 0, the query's own distance exactly 0) and indices.
    """
    # Stable two-pass sort = lexicographic sort on (-sim, index).
    order = torch.argsort(indices, dim=1, stable=True)
    sims, indices = sims.gather(1, order), indices.gather(1, order)
    order = torch.argsort(sims, dim=1, descending=True, stable=True)
    sims, indices = sims.gather(1, order), indices.gather(1, order)

    is_self = indices == query_ids[:, None]
    # With more than k exact duplicates of a query that have smaller indices,
    # the query itself may have been cut: it replaces the last neighbour.
    missing = ~is_self.any(dim=1)
    indices[missing, -1] = query_ids[missing]
    is_self[missing, -1] = True
    order = torch.argsort((~is_self).to(torch.uint8), dim=1, stable=True)
    sims, indices = sims.gather(1, order), indices.gather(1, order)

    dists = (2 - 2 * sims.float()).clamp_(min=0)
    dists[:, 0] = 0
    return dists, indices


def _exact_topk_rows(sims: torch.Tensor,
                     k: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Top-``k`` similarities per row with ties cut by smaller index.

    Args:
        sims (Tensor): ``(B, N)`` similarities.
        k (int): number of neighbours.

    Returns:
        tuple[Tensor, Tensor]: the ``(B, k)`` selected similarities and their
        column indices, in no particular order.
    """
    kth = sims.topk(k, dim=1).values[:, -1:]
    mask = sims >= kth
    counts = mask.sum(dim=1)
    out_sims = sims.new_empty((sims.size(0), k))
    out_idx = torch.empty((sims.size(0), k),
                          dtype=torch.long,
                          device=sims.device)

    plain = counts == k
    if plain.any():
        # ``nonzero`` lists each row's columns in increasing order.
        cols = mask[plain].nonzero()[:, 1].view(-1, k)
        out_idx[plain] = cols
        out_sims[plain] = sims[plain].gather(1, cols)
    for row in (~plain).nonzero().flatten().tolist():
        # A tie straddles rank k: a full stable sort keeps smaller indices.
        row_sims, row_idx = torch.sort(sims[row], descending=True, stable=True)
        out_sims[row], out_idx[row] = row_sims[:k], row_idx[:k]
    return out_sims, out_idx


@KNN_BACKENDS.register_module(name='torch')
def torch_knn(features: torch.Tensor,
              k: int,
              chunk_size: Optional[int] = None
              ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Exact kNN with chunked ``matmul`` + ``topk`` in PyTorch.

    Runs on the features' device. See the module docstring for the ordering
    contract.

    Args:
        features (Tensor): ``(N, D)`` L2-normalised features.
        k (int): number of neighbours, the query included.
        chunk_size (int, optional): number of query rows per chunk. Defaults
            to a size that keeps a chunk's similarity block near 128 MB.

    Returns:
        tuple[Tensor, Tensor]: ``(N, k)`` float32 squared L2 distances and
        ``(N, k)`` int64 neighbour indices, on the features' device.
    """
    _check_inputs(features, k)
    num = features.size(0)
    if chunk_size is None:
        chunk_size = max(1, _MAX_CHUNK_ELEMENTS // num)
    feats = features.detach()
    dists, indices = [], []
    for start in range(0, num, chunk_size):
        stop = min(start + chunk_size, num)
        sims = feats[start:stop] @ feats.t()
        top_sims, top_idx = _exact_topk_rows(sims, k)
        query_ids = torch.arange(start, stop, device=feats.device)
        chunk_dists, chunk_idx = _sort_and_put_self_first(
            top_sims, top_idx, query_ids)
        dists.append(chunk_dists)
        indices.append(chunk_idx)
    return torch.cat(dists), torch.cat(indices)


@KNN_BACKENDS.register_module(name='faiss')
def faiss_knn(features: torch.Tensor,
              k: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Exact kNN with ``faiss.IndexFlatIP`` on CPU.

    One extra neighbour is searched to detect ties that straddle rank ``k``;
    such rows (rare outside exact duplicates) are recomputed with
    :func:`torch_knn` so that the cut follows the module's ordering contract.

    Args:
        features (Tensor): ``(N, D)`` L2-normalised features.
        k (int): number of neighbours, the query included.

    Returns:
        tuple[Tensor, Tensor]: ``(N, k)`` float32 squared L2 distances and
        ``(N, k)`` int64 neighbour indices, on the features' device.
    """
    if faiss is None:
        raise ImportError('the faiss kNN backend needs the `faiss-cpu` (or '
                          '`faiss-gpu`) package; use backend="torch" instead')
    _check_inputs(features, k)
    num = features.size(0)
    feats = features.detach().float().cpu().contiguous()
    array = feats.numpy()
    index = faiss.IndexFlatIP(array.shape[1])
    index.add(array)
    search_k = min(k + 1, num)
    sims, indices = index.search(array, search_k)
    sims = torch.from_numpy(sims)
    indices = torch.from_numpy(indices).long()

    if search_k > k:
        straddling = (sims[:, k] == sims[:, k - 1]).nonzero().flatten()
        sims, indices = sims[:, :k].clone(), indices[:, :k].clone()
        if straddling.numel() > 0:
            row_sims = feats[straddling] @ feats.t()
            sims[straddling], indices[straddling] = _exact_topk_rows(
                row_sims, k)

    dists, indices = _sort_and_put_self_first(sims, indices, torch.arange(num))
    return dists.to(features.device), indices.to(features.device)


def _resolve_backend(backend: str) -> Callable:
    if backend == 'auto':
        backend = 'faiss' if is_faiss_available() else 'torch'
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
        backend (str): ``'faiss'``, ``'torch'``, any other name registered in
            ``KNN_BACKENDS``, or ``'auto'`` (faiss when importable, else
            torch). Defaults to ``'auto'``.

    Returns:
        tuple[Tensor, Tensor]: ``dists`` ``(N, k)`` float32 squared L2
        distances, non-decreasing along each row with ``dists[:, 0] == 0``,
        and ``indices`` ``(N, k)`` int64 with ``indices[i, 0] == i``.
    """
    _check_inputs(features, k)
    search_fn = _resolve_backend(backend)
    features = F.normalize(features.detach().float(), dim=1)
    return search_fn(features, int(k))
