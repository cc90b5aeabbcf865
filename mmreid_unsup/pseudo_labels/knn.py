"""Exact k-nearest-neighbour search on L2-normalised features.

The pseudo labelers need, for every sample, its ``k`` nearest neighbours in
the same set (the sample itself included). Three interchangeable backends
are registered in ``KNN_BACKENDS``:

- ``'faiss'``: exact inner-product search with ``faiss.knn`` on CPU (the
  brute force of ``IndexFlatIP`` without copying the features into an index),
  or ``faiss.GpuIndexFlatIP`` when the installed faiss has GPU support and
  sees a GPU. A failure on the GPU (typically a CUDA version mismatch of a
  faiss-gpu wheel) falls back to the CPU search with a warning instead of
  killing the run.
- ``'torch'``: blocked ``matmul`` + ``topk`` on the features' device (a
  GPU when the features are on one). The set is searched against itself, so
  only the blocks on and above the diagonal of the similarity matrix are
  computed: half the arithmetic of a flat index.
- ``'torch_bf16'`` (:mod:`~mmreid_unsup.pseudo_labels.certified_knn`): the same
  symmetric search on bfloat16 copies of the features, whose candidates are
  re-scored in float32 and certified row by row against a bound on the
  rounding error; rows without the certificate are searched again
  exhaustively. The result is the float32 one, about twice as fast on CPUs
  with native bfloat16 products.

``backend='auto'`` picks what is fastest with what is installed and where the
features are: faiss when it can use a GPU; otherwise ``'torch_bf16'`` on a
CPU with native bfloat16 products (:func:`fast_bfloat16_matmul`), else the
float32 torch search on the features' device. With faiss-cpu installed too,
the torch search still wins: on the 2-core development machine the
symmetric float32 search took 9.5-10 s where faiss-cpu's flat search took
11-14.5 s, N = 12,936, D = 2048, same neighbours up to float32 rounding.

Under DDP the labelers (and so this search) run on rank 0 only, inside
:class:`~mmreid_unsup.engine.hooks.ClusterRefreshHook`, which broadcasts the
resulting labels to every rank; nothing here assumes a GPU or a process group.

All return the same contract, so a result does not depend on which library
happens to be installed:

- neighbours are ordered by increasing squared L2 distance ``2 - 2 cos``;
  equal distances are ordered by increasing index, and the set cut at rank
  ``k`` is decided by the same rule (a tie that straddles rank ``k`` keeps the
  smaller indices);
- the query itself is always at rank 0 with distance 0, even when exact
  duplicates of it exist.
"""
from typing import Callable, Iterator, Optional, Tuple

import warnings

import numpy as np
import torch
import torch.nn.functional as F

from mmreid_unsup.registry import KNN_BACKENDS

try:
    import faiss
except ImportError:  # pragma: no cover - exercised only without faiss
    faiss = None

__all__ = [
    'knn_search', 'faiss_knn', 'torch_knn', 'is_faiss_available',
    'faiss_gpu_count', 'l2_normalize', 'pair_inner_products',
    'fast_bfloat16_matmul'
]

#: Upper bound on the number of similarity entries a chunk of the torch
#: backend materialises at once (``chunk_rows * N``), about 128 MB in float32.
_MAX_CHUNK_ELEMENTS = 1 << 25
#: Rows per block of the symmetric torch search (64 MB blocks).
_SYMMETRIC_BLOCK = 4096
#: Feature pairs whose inner product is computed at once.
_PAIR_CHUNK = 1024
#: Upper bound on the gathered feature entries of one such chunk.
_MAX_PAIR_ELEMENTS = 1 << 24


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


def l2_normalize(features: torch.Tensor, atol: float = 1e-6) -> torch.Tensor:
    """Rows scaled to unit L2 norm, without a copy when they already are.

    The extracted features are normalised by the model already; at 100,000 x
    2048 a defensive copy costs 800 MB, so it is made only when needed.

    Args:
        features (Tensor): ``(N, D)`` features.
        atol (float): rows whose norm is within ``atol`` of 1 count as
            normalised. Defaults to 1e-6 (float32 rounding).

    Returns:
        Tensor: ``(N, D)`` float32 features with unit rows (``features``
        itself, detached, when it is float32 and already normalised).
    """
    features = features.detach().float()
    norms = torch.linalg.vector_norm(features, dim=1)
    if features.numel() and bool(((norms - 1).abs() <= atol).all()):
        return features
    return F.normalize(features, dim=1)


def pair_inner_products(features: torch.Tensor, rows: torch.Tensor,
                        cols: torch.Tensor) -> torch.Tensor:
    """``features[rows[p]] . features[cols[p]]`` for every pair ``p``.

    Gathers small blocks into reused buffers: fresh multi-megabyte gathers
    spend most of their time faulting in new pages.

    Args:
        features (Tensor): ``(N, D)`` features.
        rows (Tensor): ``(P,)`` integer row indices, any device.
        cols (Tensor): ``(P,)`` integer column indices, any device.

    Returns:
        Tensor: ``(P,)`` inner products in the features' dtype, on their
        device.
    """
    device = features.device
    rows, cols = rows.to(device), cols.to(device)
    num_pairs = rows.numel()
    out = features.new_empty(num_pairs)
    chunk = max(1, min(_PAIR_CHUNK,
                       _MAX_PAIR_ELEMENTS // max(features.size(1), 1)))
    left = features.new_empty((min(chunk, num_pairs), features.size(1)))
    right = torch.empty_like(left)
    for start in range(0, num_pairs, chunk):
        stop = min(start + chunk, num_pairs)
        size = stop - start
        torch.index_select(features, 0, rows[start:stop], out=left[:size])
        torch.index_select(features, 0, cols[start:stop], out=right[:size])
        out[start:stop] = torch.linalg.vecdot(left[:size], right[:size])
    return out


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
    num = sims.size(1)
    top_sims, top_idx = sims.topk(min(k + 1, num), dim=1)
    if num == k:
        return top_sims, top_idx
    # Only where the (k+1)-th value equals the k-th can ``topk`` have cut a
    # tie arbitrarily; those rows (rare outside duplicates) are re-cut.
    straddling = (top_sims[:, k] == top_sims[:, k - 1]).nonzero().flatten()
    top_sims, top_idx = top_sims[:, :k].clone(), top_idx[:, :k].clone()
    for row in straddling.tolist():
        # A full stable sort keeps the smaller indices.
        row_sims, row_idx = torch.sort(sims[row], descending=True, stable=True)
        top_sims[row], top_idx[row] = row_sims[:k], row_idx[:k]
    return top_sims, top_idx


def _lexicographic_topk(sims: torch.Tensor, indices: torch.Tensor,
                        k: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """The first ``k`` candidates of each row by (similarity desc, index)."""
    order = torch.argsort(indices, dim=1, stable=True)
    sims, indices = sims.gather(1, order), indices.gather(1, order)
    order = torch.argsort(sims, dim=1, descending=True, stable=True)[:, :k]
    return sims.gather(1, order), indices.gather(1, order)


def upper_block_pairs(num: int, block: int) -> Iterator[Tuple[slice, slice]]:
    """Row blocks ``(a, b)`` of an ``N x N`` symmetric matrix, ``b >= a``.

    A search of a set against itself multiplies only these blocks; each
    serves its rows and, transposed, its columns.

    Args:
        num (int): ``N``.
        block (int): rows per block.

    Yields:
        tuple[slice, slice]: the rows of block ``a`` and of block ``b``.
    """
    starts = range(0, num, block)
    for a in starts:
        rows_a = slice(a, min(a + block, num))
        for b in starts[a // block:]:
            yield rows_a, slice(b, min(b + block, num))


def _merge_block(best_sims: torch.Tensor, best_idx: torch.Tensor,
                 rows: slice, block: torch.Tensor, col_offset: int,
                 k: int) -> None:
    """Fold a block of similarities into the running top-``k`` of its rows."""
    top_sims, top_idx = _exact_topk_rows(block, min(k, block.size(1)))
    sims = torch.cat([best_sims[rows], top_sims], dim=1)
    indices = torch.cat([best_idx[rows], top_idx + col_offset], dim=1)
    kept_sims, pos = sims.topk(k + 1, dim=1)
    # As in ``_exact_topk_rows``: a tie across rank k is re-cut by index.
    straddling = (kept_sims[:, k] == kept_sims[:, k - 1]).nonzero().flatten()
    kept_sims, kept_idx = kept_sims[:, :k], indices.gather(1, pos[:, :k])
    if straddling.numel() > 0:
        kept_sims[straddling], kept_idx[straddling] = _lexicographic_topk(
            sims[straddling], indices[straddling], k)
    best_sims[rows], best_idx[rows] = kept_sims, kept_idx


@KNN_BACKENDS.register_module(name='torch')
def torch_knn(features: torch.Tensor,
              k: int,
              chunk_size: Optional[int] = None,
              symmetric: bool = True) -> Tuple[torch.Tensor, torch.Tensor]:
    """Exact kNN with blocked ``matmul`` + ``topk`` in PyTorch.

    Runs on the features' device. See the module docstring for the ordering
    contract. The set is searched against itself, so the similarity matrix
    is symmetric: with ``symmetric=True`` only the blocks on and above the
    diagonal are multiplied, each one serving its rows and (transposed) its
    columns, which halves the arithmetic of the search.

    Args:
        features (Tensor): ``(N, D)`` L2-normalised features.
        k (int): number of neighbours, the query included.
        chunk_size (int, optional): rows per block. Defaults to 4096 with
            ``symmetric=True`` (64 MB blocks) and otherwise to a size that
            keeps a row chunk's similarities near 128 MB.
        symmetric (bool): multiply only the upper block triangle. Defaults
            to True.

    Returns:
        tuple[Tensor, Tensor]: ``(N, k)`` float32 squared L2 distances and
        ``(N, k)`` int64 neighbour indices, on the features' device.
    """
    _check_inputs(features, k)
    num = features.size(0)
    feats = features.detach()
    if not symmetric:
        if chunk_size is None:
            chunk_size = max(1, _MAX_CHUNK_ELEMENTS // num)
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

    block = chunk_size or _SYMMETRIC_BLOCK
    # Sentinels lose every comparison: -inf similarity, index N.
    best_sims = feats.new_full((num, k), -float('inf'))
    best_idx = torch.full((num, k), num, dtype=torch.long, device=feats.device)
    for rows_a, rows_b in upper_block_pairs(num, block):
        sims = feats[rows_a] @ feats[rows_b].t()
        _merge_block(best_sims, best_idx, rows_a, sims, rows_b.start, k)
        if rows_b != rows_a:
            _merge_block(best_sims, best_idx, rows_b, sims.t().contiguous(),
                         rows_a.start, k)
    return _sort_and_put_self_first(
        best_sims, best_idx, torch.arange(num, device=feats.device))


def _faiss_search(array: np.ndarray, k: int,
                  gpu_device: Optional[int]) -> Tuple[np.ndarray, np.ndarray]:
    """Exact inner-product search of ``array`` against itself with faiss."""
    if gpu_device is None:
        # Brute force without an index: no copy of the database.
        return faiss.knn(array, array, k, metric=faiss.METRIC_INNER_PRODUCT)
    resources = faiss.StandardGpuResources()
    config = faiss.GpuIndexFlatConfig()
    config.device = gpu_device
    index = faiss.GpuIndexFlatIP(resources, array.shape[1], config)
    index.add(array)
    return index.search(array, k)


@KNN_BACKENDS.register_module(name='faiss')
def faiss_knn(features: torch.Tensor,
              k: int,
              use_gpu: Optional[bool] = None
              ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Exact kNN with faiss's flat inner-product index, on GPU or CPU.

    One extra neighbour is searched to detect ties that straddle rank ``k``;
    such rows (rare outside exact duplicates) are recomputed with
    :func:`torch_knn` so that the cut follows the module's ordering contract.

    Args:
        features (Tensor): ``(N, D)`` L2-normalised features, any device.
        k (int): number of neighbours, the query included.
        use_gpu (bool, optional): search on a GPU (the features' one if they
            are on CUDA, else GPU 0). ``None`` (default) uses a GPU when the
            installed faiss sees one. When the GPU search fails, a warning is
            issued and the search is repeated on the CPU.

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
    search_k = min(k + 1, num)

    if use_gpu is None:
        use_gpu = faiss_gpu_count() > 0
    result = None
    if use_gpu:
        device = (features.device.index or 0) if features.is_cuda else 0
        try:
            result = _faiss_search(array, search_k, gpu_device=device)
        except Exception as error:  # noqa: BLE001 - any GPU failure
            warnings.warn(
                f'faiss GPU search failed ({type(error).__name__}: {error}); '
                'falling back to the CPU search. Install a faiss-gpu build '
                'that matches your CUDA, or use knn_backend="torch" to search '
                'on the GPU with PyTorch.',
                RuntimeWarning,
                stacklevel=2)
    if result is None:
        result = _faiss_search(array, search_k, gpu_device=None)
    sims = torch.from_numpy(result[0])
    indices = torch.from_numpy(result[1]).long()

    if search_k > k:
        straddling = (sims[:, k] == sims[:, k - 1]).nonzero().flatten()
        sims, indices = sims[:, :k].clone(), indices[:, :k].clone()
        if straddling.numel() > 0:
            row_sims = feats[straddling] @ feats.t()
            sims[straddling], indices[straddling] = _exact_topk_rows(
                row_sims, k)

    dists, indices = _sort_and_put_self_first(sims, indices, torch.arange(num))
    return dists.to(features.device), indices.to(features.device)


def fast_bfloat16_matmul(device: torch.device) -> bool:
    """Whether bfloat16 matrix products are native (fast) on ``device``.

    On CPU that needs oneDNN with bfloat16 instructions (AVX512-BF16 or
    AMX); without them the products are emulated and slower than float32.
    GPUs return False: there ``backend='auto'`` prefers faiss or the float32
    torch search.

    Args:
        device (torch.device): where the features are.

    Returns:
        bool: True when ``backend='auto'`` should use the certified bfloat16
        search (:func:`~mmreid_unsup.pseudo_labels.certified_knn.bf16_knn`).
    """
    if torch.device(device).type != 'cpu':
        return False
    try:
        return bool(torch.backends.mkldnn.is_available()
                    and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # private API of oneDNN builds
        return False


def _resolve_backend(backend: str, features: torch.Tensor) -> Callable:
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
    _check_inputs(features, k)
    search_fn = _resolve_backend(backend, features)
    features = l2_normalize(features)
    return search_fn(features, int(k))
