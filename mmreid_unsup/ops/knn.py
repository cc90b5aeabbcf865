"""k-nearest-neighbour search on L2-normalised features.

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
- ``'faiss_hnsw'`` (:mod:`~mmreid_unsup.ops.knn_faiss_approximate`): the
  one approximate backend, for sets where exact search is the bottleneck:
  candidates from a faiss HNSW graph, distances re-scored exactly in
  float32. Its neighbour sets may miss true neighbours; the rest of the
  contract holds.

``backend='auto'`` picks what is fastest with what is installed and where the
features are: faiss when it can use a GPU; otherwise ``'torch_bf16'`` on a
CPU with native bfloat16 products
(:func:`~mmreid_unsup.ops.knn_certified_bf16.fast_bfloat16_matmul`), else
the float32 torch search on the features' device. With faiss-cpu installed
too, the torch search still wins: on the 2-core development machine the
symmetric float32 search took 9.5-10 s where faiss-cpu's flat search took
11-14.5 s, N = 12,936, D = 2048, same neighbours up to float32 rounding.

Above :data:`APPROXIMATE_ABOVE` samples (200,000) on the CPU, ``'auto'``
picks ``'faiss_hnsw'`` when faiss is installed (without faiss it keeps the
exact search and warns). Exact search grows with ``N ** 2``, the graph
with about ``N log N``; on the 2-core development VM (Intel Xeon with
AVX-512, no AVX512-BF16, shared with another job, 512-d structured
features, ``k = 30``) the exact float32 search of 50,000 samples took 42
CPU-seconds, the HNSW backend's build and search 54 (31 + 23, one thread):
the crossover lies a little above 50,000 there. Exact search costs four
times as much at each doubling of ``N``, the graph a little over twice
(its cost per sample grew by 30-43 % from 20,000 to 50,000 samples). The
threshold is set higher, at 200,000, so that the labels stay exact
wherever the exact search costs minutes at most: at 200,000 it would cost
about 16 times the 50,000 figure (about 11 CPU-minutes; extrapolated, not
measured), and the benchmark's default sizes, up to 100,000, keep their
exact search. With a faiss that sees a
GPU, and for features on a GPU, ``'auto'`` is unchanged at every size (no
GPU was at hand to measure a crossover there).

Nothing here assumes a GPU or a process group. Under DDP,
:class:`~mmreid_unsup.engine.hooks.ClusterRefreshHook` has a labeler that
can split its work (``DBSCANLabeler``) search on every rank, each rank a
share of the search, through
:func:`~mmreid_unsup.pseudo_labels.sharded_knn.sharded_knn_search`, which
builds on the pieces the exact backends offer for it (``'torch'`` and
``'torch_bf16'``: any subset of the blocks of the symmetric search;
``'faiss'``: any block of queries). With ``'faiss_hnsw'`` or a backend
given as a config with options, rank 0 searches and broadcasts; labelers
that cannot split their work run on rank 0 only and the hook broadcasts
their labels.
"""
from functools import partial
from typing import Callable, Tuple, Union

import warnings

import torch

from mmreid_unsup.registry import KNN_BACKENDS
from .feature_rows import l2_normalize
from .knn_certified_bf16 import fast_bfloat16_matmul
from .knn_faiss import faiss_gpu_count, is_faiss_available
from .knn_faiss_approximate import faiss_hnsw_knn  # noqa: F401 (registers)
from .knn_ordering import check_knn_inputs

__all__ = ['knn_search', 'knn_search_function', 'APPROXIMATE_ABOVE']

#: ``'auto'`` searches sets of more samples than this approximately
#: (``'faiss_hnsw'``) when they are on the CPU; see the module docstring.
APPROXIMATE_ABOVE = 200_000


def _approximate_available(num: int) -> bool:
    """Whether faiss is there for the approximate search; warns if not."""
    if is_faiss_available():
        return True
    warnings.warn(
        f'knn_backend="auto": {num:,} samples are above '
        f'{APPROXIMATE_ABOVE:,}, where the approximate "faiss_hnsw" search '
        'would be used, but faiss is not installed; searching exactly, '
        'which grows with N ** 2 '
        '(`pip install faiss-cpu` to search approximately).',
        RuntimeWarning,
        stacklevel=3)
    return False


def knn_search_function(backend: Union[str, dict],
                        features: torch.Tensor) -> Callable:
    """The search function :func:`knn_search` uses for these features.

    Args:
        backend (str | dict): a name registered in ``KNN_BACKENDS``,
            ``'auto'``, ``'exact'`` (``'auto'`` among the exact backends
            only), or a config ``dict(type=name, **options)`` whose
            options are passed to the backend (e.g.
            ``dict(type='faiss_hnsw', ef_search=48)``).
        features (Tensor): the features to search (their device and size
            decide ``'auto'``).

    Returns:
        Callable: the function registered in ``KNN_BACKENDS`` (bound to a
        config's options, when ``backend`` is one that has any),
        ``search(features, k) -> (dists, indices)``.

    Raises:
        KeyError: for an unknown name.
        ValueError: for a config without a ``type`` or of type ``'auto'``
            or ``'exact'``.
    """
    if isinstance(backend, dict):
        options = dict(backend)
        name = options.pop('type', None)
        if not isinstance(name, str) or name in ('auto', 'exact'):
            raise ValueError(
                'a kNN backend config needs type=<a registered backend '
                f'name> (not "auto" or "exact"), got {backend!r}')
        search_fn = knn_search_function(name, features)
        return partial(search_fn, **options) if options else search_fn
    if backend in ('auto', 'exact'):
        if faiss_gpu_count() > 0:
            backend = 'faiss'
        elif (backend == 'auto' and features.device.type == 'cpu'
              and features.size(0) > APPROXIMATE_ABOVE
              and _approximate_available(features.size(0))):
            backend = 'faiss_hnsw'
        elif fast_bfloat16_matmul(features.device):
            backend = 'torch_bf16'
        else:
            backend = 'torch'
    search_fn = KNN_BACKENDS.get(backend)
    if search_fn is None:
        raise KeyError(f'unknown kNN backend {backend!r}; registered: '
                       f'{sorted(KNN_BACKENDS.module_dict)} (or "auto", '
                       '"exact")')
    return search_fn


def knn_search(features: torch.Tensor,
               k: int,
               backend: Union[str, dict] = 'auto'
               ) -> Tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` nearest neighbours of every sample within the set.

    Exact, except with ``'faiss_hnsw'`` (which ``'auto'`` picks above
    :data:`APPROXIMATE_ABOVE` samples on the CPU). The features are
    L2-normalised here (again), so the squared L2 distance equals
    ``2 - 2 cos``. The query is its own first neighbour.

    Args:
        features (Tensor): ``(N, D)`` features.
        k (int): number of neighbours per sample, the sample itself included.
            Must satisfy ``1 <= k <= N``.
        backend (str | dict): ``'faiss'``, ``'torch'``, ``'torch_bf16'``,
            ``'faiss_hnsw'``, any other name registered in
            ``KNN_BACKENDS``, or ``'auto'`` (faiss when it can use a GPU,
            else ``'faiss_hnsw'`` for more than :data:`APPROXIMATE_ABOVE`
            samples on the CPU, else ``'torch_bf16'`` on a CPU with native
            bfloat16 products, else ``'torch'`` on the features' device);
            or a config ``dict(type=name, **options)`` passing options to
            the backend, e.g. ``dict(type='faiss_hnsw', ef_search=48)``.
            ``'exact'`` is ``'auto'`` without the approximate search: the
            fastest exact backend at every size. Defaults to ``'auto'``.

    Returns:
        tuple[Tensor, Tensor]: ``dists`` ``(N, k)`` float32 squared L2
        distances, non-decreasing along each row with ``dists[:, 0] == 0``,
        and ``indices`` ``(N, k)`` int64 with ``indices[i, 0] == i``.
    """
    check_knn_inputs(features, k)
    search_fn = knn_search_function(backend, features)
    features = l2_normalize(features)
    return search_fn(features, int(k))

