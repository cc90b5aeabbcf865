"""DBSCAN on the k-reciprocal Jaccard distance (Cluster-Contrast, SpCL)."""
import logging
from typing import Optional, Union

import numpy as np
import torch
from mmengine.dist import broadcast, get_rank
from mmengine.logging import print_log

from mmreid_unsup.registry import PSEUDO_LABELERS
from mmreid_unsup.ops import (jaccard_distance_from_encoding,
                              k_reciprocal_encoding, knn_search, l2_normalize,
                              local_query_expansion,
                              sparse_jaccard_from_encoding)
from mmreid_unsup.ops.sparse_jaccard import DEFAULT_MAX_TRIPLES
from .base_labeler import BaseLabeler
from .sharded_jaccard import (sharded_jaccard_graph,
                              sharded_k_reciprocal_encoding)
from .sharded_knn import sharded_knn_search

__all__ = ['DBSCANLabeler']


def _dbscan_class() -> type:
    """scikit-learn's ``DBSCAN``, imported when first asked for.

    scikit-learn and the ``scipy.stats`` it loads took 1.7 s of every
    tool's start (2-core AMD EPYC); tools that never cluster
    (``tools/test.py``, ``tools/search.py``) do without them.

    Returns:
        type: :class:`sklearn.cluster.DBSCAN`.
    """
    from sklearn.cluster import DBSCAN
    return DBSCAN


@PSEUDO_LABELERS.register_module()
class DBSCANLabeler(BaseLabeler):
    """Cluster with ``DBSCAN(metric='precomputed')`` on the Jaccard distance.

    The defaults are Cluster-Contrast's for Market-1501, DukeMTMC and MSMT17
    (``k1=30, k2=6, eps=0.6, min_samples=4``) and reproduce its labels.
    Cameras are not used.

    By default the distance is the sparse graph of
    :func:`~mmreid_unsup.ops.sparse_jaccard_from_encoding`, cut at
    ``eps``: DBSCAN only looks at pairs within ``eps``, so its labels are
    those of the dense distance (``sparse=False``, the reference
    implementation, which needs ``N ** 2`` floats) while memory grows with
    ``N``.

    Stages, each timed and measured in :attr:`last_stats`: ``knn``,
    ``encoding`` (k-reciprocal sets and local query expansion), ``jaccard``,
    ``dbscan``.

    Across ranks (``labeler(features, camids, across_ranks=True)`` on every
    rank of a process group, as ``ClusterRefreshHook`` calls it under DDP),
    the sparse path splits the kNN search
    (:func:`~mmreid_unsup.pseudo_labels.sharded_knn.sharded_knn_search`),
    the encoding and the Jaccard graph
    (:mod:`~mmreid_unsup.pseudo_labels.sharded_jaccard`) over the ranks;
    rank 0 runs DBSCAN on the gathered graph and broadcasts the labels.
    The labels are those of one process (the graph is bit-identical; see
    those modules for the kNN backends' rounding). ``sharded=False`` or
    ``sparse=False`` keep the labelling on one rank.

    Args:
        k1 (int): k-reciprocal neighbourhood size. Clamped to the number of
            samples (with a warning) on tiny sets. Defaults to 30.
        k2 (int): neighbours of the local query expansion. Defaults to 6.
        eps (float): DBSCAN neighbourhood radius on the Jaccard distance,
            ``< 1`` with ``sparse=True`` (pairs at distance 1 are not
            stored). Defaults to 0.6.
        min_samples (int): DBSCAN core-point size, the point included.
            Defaults to 4.
        knn_backend (str): ``'auto'``, ``'faiss'``, ``'torch'``,
            ``'torch_bf16'`` or the approximate ``'faiss_hnsw'`` (which
            ``'auto'`` picks above
            :data:`~mmreid_unsup.ops.knn.APPROXIMATE_ABOVE` samples on the
            CPU), or a config such as
            ``dict(type='faiss_hnsw', ef_search=48)``, see
            :func:`~mmreid_unsup.ops.knn_search`. Defaults to ``'auto'``.
        n_jobs (int): DBSCAN's parallel jobs, ``-1`` for all cores.
            Defaults to -1.
        sparse (bool): sparse, chunked Jaccard graph (True) or the dense
            ``(N, N)`` reference (False). Defaults to True.
        dtype (str): ``'float32'`` or ``'float16'`` encoding in the sparse
            Jaccard stage (Cluster-Contrast's ``use_float16``). Defaults to
            ``'float32'``.
        max_triples (int): working-set bound of the sparse Jaccard stage,
            see :func:`~mmreid_unsup.ops.sparse_jaccard_from_encoding`.
        sharded (bool): With ``sparse=True``, split the work over the ranks
            when called with ``across_ranks=True``
            (:attr:`shards_across_ranks`). Defaults to True.
        progress (bool): Show a progress bar per stage. Defaults to False.
        camera_centering (bool): Remove each camera's mean feature first,
            see :class:`~mmreid_unsup.pseudo_labels.BaseLabeler`. Defaults
            to False.
        on_bad_features (str): ``'outlier'`` or ``'error'``: what becomes of
            non-finite or zero feature rows, see
            :class:`~mmreid_unsup.pseudo_labels.BaseLabeler`. Defaults to
            ``'outlier'``.

    Example:
        >>> labeler = DBSCANLabeler(eps=0.6)
        >>> labels = labeler(features)  # LongTensor (N,), -1 = outlier
        >>> labeler.last_stats['num_clusters'], labeler.last_stats['time_knn']
    """

    def __init__(self,
                 k1: int = 30,
                 k2: int = 6,
                 eps: float = 0.6,
                 min_samples: int = 4,
                 knn_backend: Union[str, dict] = 'auto',
                 n_jobs: int = -1,
                 sparse: bool = True,
                 dtype: str = 'float32',
                 max_triples: int = DEFAULT_MAX_TRIPLES,
                 sharded: bool = True,
                 progress: bool = False,
                 camera_centering: bool = False,
                 on_bad_features: str = 'outlier') -> None:
        super().__init__(
            progress=progress,
            camera_centering=camera_centering,
            on_bad_features=on_bad_features)
        if not 1 <= k2 <= k1:
            raise ValueError(f'need 1 <= k2 <= k1, got k1={k1}, k2={k2}')
        if sparse and not 0 < eps < 1:
            raise ValueError(
                f'eps={eps}: the sparse Jaccard graph needs 0 < eps < 1 '
                '(pairs at distance 1 are not stored); use sparse=False to '
                'cluster on the dense matrix')
        if not sparse and dtype != 'float32':
            raise ValueError(f'dtype={dtype!r} needs sparse=True; the dense '
                             'reference computes in float64')
        self.k1 = k1
        self.k2 = k2
        self.eps = eps
        self.min_samples = min_samples
        self.knn_backend = knn_backend
        self.n_jobs = n_jobs
        self.sparse = sparse
        self.dtype = dtype
        self.max_triples = max_triples
        self.sharded = sharded

    @property
    def shards_across_ranks(self) -> bool:
        """Whether a call with ``across_ranks=True`` splits the work: the
        sparse path with ``sharded=True``."""
        return self.sharded and self.sparse

    def label(self, features: torch.Tensor,
              camids: Optional[torch.Tensor]) -> np.ndarray:
        """Run kNN, encoding, Jaccard distance and DBSCAN, timing each.

        Args:
            features (Tensor): ``(N, D)`` features.
            camids (Tensor, optional): ignored.

        Returns:
            np.ndarray: ``(N,)`` DBSCAN labels, -1 for noise.
        """
        num = features.size(0)
        k1 = min(self.k1, num)
        k2 = min(self.k2, k1)
        if k1 < self.k1:
            print_log(
                f'{type(self).__name__}: only {num} samples, using k1={k1} '
                f'and k2={k2} instead of {self.k1} and {self.k2}',
                logger='current',
                level=logging.WARNING)
        features = l2_normalize(features)
        _dbscan_class()  # imported before the stages, not timed as DBSCAN
        if self.splitting_over_ranks:
            return self._label_across_ranks(features, k1, k2)

        with self.stage('knn'):
            initial_dist, initial_rank = knn_search(
                features, k1, backend=self.knn_backend)
            initial_rank = initial_rank.cpu().numpy()
            initial_dist = initial_dist.cpu().numpy()

        with self.stage('encoding'):
            # The dense reference recomputes every distance, as it always
            # did; the sparse path reuses the kNN's where it has them.
            encoding = k_reciprocal_encoding(
                features, initial_rank, k1,
                initial_dist if self.sparse else None)
            encoding = local_query_expansion(encoding, initial_rank, k2)
            del initial_dist, initial_rank

        with self.stage('jaccard') as progress:
            if self.sparse:
                dist = sparse_jaccard_from_encoding(
                    encoding,
                    max_distance=self.eps,
                    dtype=self.dtype,
                    max_triples=self.max_triples,
                    progress=progress)
                self.last_stats['graph_nnz'] = int(dist.nnz)
            else:
                dist = jaccard_distance_from_encoding(encoding)
            del encoding

        with self.stage('dbscan'):
            labels = self._dbscan(dist)
        return labels

    def _label_across_ranks(self, features: torch.Tensor, k1: int,
                            k2: int) -> np.ndarray:
        """The sparse path, each rank a share of it, DBSCAN on rank 0.

        Args:
            features (Tensor): ``(N, D)`` L2-normalised features, the same
                on every rank.
            k1 (int): the k-reciprocal neighbourhood size.
            k2 (int): neighbours of the local query expansion.

        Returns:
            np.ndarray: ``(N,)`` int64 DBSCAN labels, the same on every
            rank.
        """
        with self.stage('knn'):
            initial_dist, initial_rank = sharded_knn_search(
                features, k1, backend=self.knn_backend)
            initial_rank = initial_rank.cpu().numpy()
            initial_dist = initial_dist.cpu().numpy()

        with self.stage('encoding'):
            encoding = sharded_k_reciprocal_encoding(
                features, initial_rank, initial_dist, k1, k2)
            del initial_dist, initial_rank

        with self.stage('jaccard') as progress:
            dist = sharded_jaccard_graph(
                encoding,
                max_distance=self.eps,
                dtype=self.dtype,
                max_triples=self.max_triples,
                progress=progress)
            del encoding

        with self.stage('dbscan'):
            labels = torch.empty(features.size(0), dtype=torch.long)
            if get_rank() == 0:
                self.last_stats['graph_nnz'] = int(dist.nnz)
                labels = torch.from_numpy(self._dbscan(dist).astype(np.int64))
            broadcast(labels, src=0)
        return labels.numpy()

    def _dbscan(self, dist) -> np.ndarray:
        """DBSCAN's labels on a precomputed (dense or sparse) distance.

        Args:
            dist (np.ndarray | scipy.sparse.csr_matrix): ``(N, N)`` Jaccard
                distance.

        Returns:
            np.ndarray: ``(N,)`` labels, -1 for noise.
        """
        return _dbscan_class()(
            eps=self.eps,
            min_samples=self.min_samples,
            metric='precomputed',
            n_jobs=self.n_jobs).fit_predict(dist)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(k1={self.k1}, k2={self.k2}, '
                f'eps={self.eps}, min_samples={self.min_samples}, '
                f'knn_backend={self.knn_backend!r}, sparse={self.sparse}, '
                f'dtype={self.dtype!r}, sharded={self.sharded}, '
                f'camera_centering={self.camera_centering})')
