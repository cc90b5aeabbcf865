"""The ``'faiss_hnsw'`` kNN backend: approximate search on a faiss HNSW graph.

Exact search costs ``N ** 2 * D`` multiply-adds, which at a million 512-d
features is hours on two cores. This backend builds faiss's hierarchical
navigable small-world graph (``IndexHNSWFlat``, inner product) over the set
and walks it for every sample, which costs about ``N log N``.

What it returns, and how it relates to the ordering contract of
:mod:`~mmreid_unsup.ops.knn_ordering`:

- **Exact distances.** The graph walk yields candidates only: every
  candidate's similarity is recomputed in float32 from the features
  (:func:`rescore`), so the k-reciprocal encoding and the Jaccard distance
  see the same values an exact backend gives for the same pairs (up to
  float32 rounding).
- **Ordering.** Each row is sorted by (distance, index), the query itself at
  rank 0 with distance 0, whether or not the walk returned it.
- **Not guaranteed: the neighbour set.** A true neighbour the walk misses is
  replaced by the next one it found, and the tie-by-index rule holds among
  the samples it found only. A row for which the walk finds fewer than
  ``k`` samples (possible on tiny or degenerate sets) is searched again
  exhaustively, so it is exact.

Parameters. ``m = 32`` links per node, ``ef_construction = 80`` and
``ef_search = 64`` were chosen on ``benchmarks/pseudo_labels.py``'s
structured 512-d features (``DBSCANLabeler`` with Cluster-Contrast's
defaults, ``k1 = 30``) on the 2-core development VM while another job used
the cores: the labels' ARI against those of the exact search was 0.9996
at N = 20,000 and 0.995 at N = 50,000. At 50,000 it was 0.964 with faiss's
default ``ef_construction = 40``, 0.85 with ``m = 16`` and
``ef_construction = 40``, and 0.991-0.996 for every other setting tried
(``ef_search`` 40 or 96, ``m = 24``, ``ef_construction = 120``,
``storage`` ``'fp16'`` or ``'sq8'``); ``m = 24, ef_search = 40`` took about
two thirds of the defaults' CPU time for 0.993. The table is in
``docs/en/advanced_guides/pseudo_labels_at_scale.md``. faiss's IVF-flat
index was measured too and dropped: at N = 20,000 with 256 lists it found
99.8 % of the close neighbours (similarity above 0.3) but 44 % of the far
ones among the 30 with 8 lists probed (99.9 % and 70 % with 32), and the
labels' ARI against the exact ones was 0.937 and 0.967.

Determinism. The searches of a built graph are independent per query, so
they give the same result on any number of threads. faiss 1.15 (the
pinned version) builds the graph deterministically too, whatever the
number of threads: its ``add`` inserts the samples in fixed batches and
merges their links in a fixed order (checked on the development machine:
identical graphs on one and two threads), and the node levels come from a
generator with a fixed seed, so the result is a function of the features
alone. faiss builds without that deterministic build (no
``hnsw_add_vertices_deterministic``) race their threads for the links, so
there the graph is built on one thread unless ``num_threads`` says
otherwise (:func:`deterministic_build`).

faiss is optional: without it this backend raises ``ImportError`` saying
how to install it. It does not use a GPU: with faiss-gpu installed the
graph is built and searched on the CPU all the same (features on a GPU are
copied to the CPU and the result copied back), and where faiss sees a GPU
``'auto'`` keeps the exact ``'faiss'`` GPU search at every size.
"""
from contextlib import contextmanager
from typing import Iterator, Optional, Tuple

import torch

from mmreid_unsup.registry import KNN_BACKENDS
from . import knn_faiss
from .knn_ordering import (MAX_CHUNK_ELEMENTS, check_knn_inputs,
                           exact_topk_rows, lexicographic_topk,
                           sort_and_put_self_first)

__all__ = ['faiss_hnsw_knn', 'rescore', 'deterministic_build']

#: Candidates searched beyond ``k``: the exact re-scoring then cuts ties and
#: float32 rounding differences between faiss's and torch's products by the
#: ordering contract among a few more samples than it keeps.
_EXTRA_CANDIDATES = 4
#: ``storage`` names: how the graph stores the features it walks on.
_STORAGE = ('flat', 'fp16', 'sq8')
#: Sets of at most this many samples are searched on one thread unless
#: ``num_threads`` says otherwise: there OpenMP's barriers cost more than
#: the second thread saves (1,500 x 64 features, development VM under
#: load: the graph built in 1.6 s on one thread, 8.0 s on two).
_SERIAL_BELOW = 5000
#: Feature entries gathered at once by the re-scoring (64 MB in float32).
_RESCORE_ELEMENTS = 1 << 24


@contextmanager
def _faiss_threads(num_threads: Optional[int]) -> Iterator[None]:
    """Run faiss's OpenMP loops on ``num_threads`` threads (None: as is)."""
    if num_threads is None:
        yield
        return
    faiss = knn_faiss.faiss
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(int(num_threads))
    try:
        yield
    finally:
        faiss.omp_set_num_threads(previous)


def deterministic_build() -> bool:
    """Whether the installed faiss builds an HNSW graph the same way on any
    number of threads (faiss >= 1.15 exposes that build as
    ``hnsw_add_vertices_deterministic``)."""
    return knn_faiss.faiss is not None and hasattr(
        knn_faiss.faiss, 'hnsw_add_vertices_deterministic')


def rescore(features: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """Exact float32 inner products of every row with its candidates.

    Args:
        features (Tensor): ``(N, D)`` float32 features.
        indices (Tensor): ``(N, C)`` int64 candidate indices, each in
            ``0 .. N - 1``.

    Returns:
        Tensor: ``(N, C)`` float32 ``features[i] . features[indices[i, c]]``.
    """
    num, width = indices.shape
    sims = features.new_empty((num, width))
    rows = max(1, _RESCORE_ELEMENTS // max(width * features.size(1), 1))
    for start in range(0, num, rows):
        stop = min(start + rows, num)
        cands = features[indices[start:stop]]  # (B, C, D)
        sims[start:stop] = torch.bmm(cands,
                                     features[start:stop, :, None])[..., 0]
    return sims


def _exhaustive_rows(features: torch.Tensor, rows: torch.Tensor,
                     k: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Exact top ``k`` similarities of ``rows`` against the whole set."""
    chunk = max(1, MAX_CHUNK_ELEMENTS // features.size(0))
    out_sims, out_idx = [], []
    for start in range(0, rows.numel(), chunk):
        sims = features[rows[start:start + chunk]] @ features.t()
        top_sims, top_idx = exact_topk_rows(sims, k)
        out_sims.append(top_sims)
        out_idx.append(top_idx)
    return torch.cat(out_sims), torch.cat(out_idx)


@KNN_BACKENDS.register_module(name='faiss_hnsw')
def faiss_hnsw_knn(features: torch.Tensor,
                   k: int,
                   m: int = 32,
                   ef_construction: int = 80,
                   ef_search: int = 64,
                   storage: str = 'flat',
                   num_threads: Optional[int] = None
                   ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Approximate kNN on a faiss HNSW graph, distances re-scored exactly.

    See the module docstring for what is and is not guaranteed, and for how
    the defaults were chosen.

    Args:
        features (Tensor): ``(N, D)`` L2-normalised features, any device
            (searched on the CPU).
        k (int): number of neighbours, the query included.
        m (int): links per node of the graph (``2 * m`` on its base level).
            Defaults to 32.
        ef_construction (int): breadth of the search that links each new
            node while the graph is built. Defaults to 80.
        ef_search (int): breadth of each query's search; raised to the
            number of candidates (``k`` plus a few) when smaller. Defaults
            to 64.
        storage (str): the features the graph is built and walked on:
            ``'flat'`` (a float32 copy, ``IndexHNSWFlat``), ``'fp16'`` or
            ``'sq8'`` (float16 or 8-bit scalar-quantised copies,
            ``IndexHNSWSQ``: half or a quarter of the memory and of the
            traffic per distance, slightly less exact walks). The returned
            distances are re-scored from the float32 features whatever the
            storage. Defaults to ``'flat'``.
        num_threads (int, optional): OpenMP threads of the build and the
            search, restored afterwards. Defaults to None: faiss's current
            setting (all cores unless ``OMP_NUM_THREADS`` or
            ``faiss.omp_set_num_threads`` says otherwise), but one thread
            for sets of at most 5,000 samples, and a graph built on one
            thread when the installed faiss's build is not deterministic
            (:func:`deterministic_build`). The result does not depend on
            it where the build is deterministic.

    Returns:
        tuple[Tensor, Tensor]: ``(N, k)`` float32 squared L2 distances and
        ``(N, k)`` int64 neighbour indices, on the features' device.

    Raises:
        ImportError: when faiss is not installed.
    """
    faiss = knn_faiss.faiss
    if faiss is None:
        raise ImportError(
            "the 'faiss_hnsw' kNN backend needs faiss: `pip install "
            "faiss-cpu` (or faiss-gpu); without it use an exact backend, "
            "e.g. knn_backend='torch'")
    check_knn_inputs(features, k)
    if storage not in _STORAGE:
        raise ValueError(f'storage must be one of {_STORAGE}, got '
                         f'{storage!r}')
    if m < 2 or ef_construction < 1 or ef_search < 1:
        raise ValueError('need m >= 2, ef_construction >= 1 and '
                         f'ef_search >= 1, got m={m}, ef_construction='
                         f'{ef_construction}, ef_search={ef_search}')
    feats = features.detach().float().cpu().contiguous()
    num, dim = feats.shape
    array = feats.numpy()
    num_candidates = min(k + _EXTRA_CANDIDATES, num)

    if storage == 'flat':
        index = faiss.IndexHNSWFlat(dim, int(m), faiss.METRIC_INNER_PRODUCT)
    else:
        kind = (faiss.ScalarQuantizer.QT_fp16
                if storage == 'fp16' else faiss.ScalarQuantizer.QT_8bit)
        index = faiss.IndexHNSWSQ(dim, kind, int(m),
                                  faiss.METRIC_INNER_PRODUCT)
        index.train(array)  # the quantiser's per-dimension range
    index.hnsw.efConstruction = int(ef_construction)
    if num_threads is None and num <= _SERIAL_BELOW:
        num_threads = 1
    build_threads = num_threads
    if build_threads is None and not deterministic_build():
        build_threads = 1
    with _faiss_threads(build_threads):
        index.add(array)
    params = faiss.SearchParametersHNSW()
    params.efSearch = max(int(ef_search), num_candidates)
    with _faiss_threads(num_threads):
        _, found = index.search(array, num_candidates, params=params)
    del index
    indices = torch.from_numpy(found)

    # faiss pads a row with -1 when its walk found too few samples.
    missing = indices < 0
    short = missing.any(dim=1)
    sims = rescore(feats, indices.clamp(min=0)).masked_fill_(
        missing, -float('inf'))
    sims, indices = lexicographic_topk(sims, indices, num_candidates)
    sims, indices = sims[:, :k].contiguous(), indices[:, :k].contiguous()
    if bool(short.any()):
        rows = short.nonzero().flatten()
        sims[rows], indices[rows] = _exhaustive_rows(feats, rows, k)
    dists, indices = sort_and_put_self_first(sims, indices, torch.arange(num))
    return dists.to(features.device), indices.to(features.device)
