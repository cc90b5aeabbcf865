"""DBSCAN on the k-reciprocal Jaccard distance (Cluster-Contrast, SpCL)."""
import logging
import time
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from sklearn.cluster import DBSCAN

from mmreid_unsup.registry import PSEUDO_LABELERS
from .base_labeler import BaseLabeler
from .jaccard_distance import (jaccard_distance_from_encoding,
                               k_reciprocal_encoding, local_query_expansion)
from .knn import knn_search

__all__ = ['DBSCANLabeler']


@PSEUDO_LABELERS.register_module()
class DBSCANLabeler(BaseLabeler):
    """Cluster with ``DBSCAN(metric='precomputed')`` on the Jaccard distance.

    The defaults are Cluster-Contrast's for Market-1501, DukeMTMC and MSMT17.
    Cameras are not used.

    Args:
        k1 (int): k-reciprocal neighbourhood size. Clamped to the number of
            samples (with a warning) on tiny sets. Defaults to 30.
        k2 (int): neighbours of the local query expansion. Defaults to 6.
        eps (float): DBSCAN neighbourhood radius on the Jaccard distance.
            Defaults to 0.6.
        min_samples (int): DBSCAN core-point size, the point included.
            Defaults to 4.
        knn_backend (str): ``'auto'``, ``'faiss'`` or ``'torch'``, see
            :func:`~mmreid_unsup.pseudo_labels.knn.knn_search`. Defaults to
            ``'auto'``.
        n_jobs (int): DBSCAN's parallel jobs, ``-1`` for all cores.
            Defaults to -1.

    Example:
        >>> labeler = DBSCANLabeler(eps=0.6)
        >>> labels = labeler(features)  # LongTensor (N,), -1 = outlier
        >>> labeler.last_stats['num_clusters']
    """

    def __init__(self,
                 k1: int = 30,
                 k2: int = 6,
                 eps: float = 0.6,
                 min_samples: int = 4,
                 knn_backend: str = 'auto',
                 n_jobs: int = -1) -> None:
        super().__init__()
        if not 1 <= k2 <= k1:
            raise ValueError(f'need 1 <= k2 <= k1, got k1={k1}, k2={k2}')
        self.k1 = k1
        self.k2 = k2
        self.eps = eps
        self.min_samples = min_samples
        self.knn_backend = knn_backend
        self.n_jobs = n_jobs

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
        features = F.normalize(features.detach().float(), dim=1)

        tic = time.perf_counter()
        _, initial_rank = knn_search(features, k1, backend=self.knn_backend)
        initial_rank = initial_rank.cpu().numpy()
        self.last_stats['time_knn'] = time.perf_counter() - tic

        tic = time.perf_counter()
        encoding = k_reciprocal_encoding(features, initial_rank, k1)
        encoding = local_query_expansion(encoding, initial_rank, k2)
        self.last_stats['time_encoding'] = time.perf_counter() - tic

        tic = time.perf_counter()
        dist = jaccard_distance_from_encoding(encoding)
        self.last_stats['time_jaccard'] = time.perf_counter() - tic

        tic = time.perf_counter()
        labels = DBSCAN(
            eps=self.eps,
            min_samples=self.min_samples,
            metric='precomputed',
            n_jobs=self.n_jobs).fit_predict(dist)
        self.last_stats['time_dbscan'] = time.perf_counter() - tic
        return labels

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(k1={self.k1}, k2={self.k2}, '
                f'eps={self.eps}, min_samples={self.min_samples}, '
                f'knn_backend={self.knn_backend!r})')
