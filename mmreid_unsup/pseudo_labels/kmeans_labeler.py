"""k-means pseudo labels (the fixed-``k`` clustering of MMT and SSG)."""
import warnings
from typing import Optional

import numpy as np
import torch

from mmreid_unsup.ops import l2_normalize
from mmreid_unsup.ops.knn_faiss import faiss, faiss_gpu_count
from mmreid_unsup.registry import PSEUDO_LABELERS
from .base_labeler import BaseLabeler

__all__ = ['KMeansLabeler']


@PSEUDO_LABELERS.register_module()
class KMeansLabeler(BaseLabeler):
    """Partition the L2-normalised features into ``num_clusters`` clusters.

    Uses ``faiss.Kmeans`` (on a GPU when the installed faiss sees one; a GPU
    failure falls back to the CPU with a warning), or scikit-learn's
    ``KMeans`` when faiss is not installed. k-means has no outliers: every
    sample gets a label, except non-finite or zero feature rows (``-1``,
    see ``on_bad_features``). Cameras are not used.

    Stages in :attr:`last_stats`: ``kmeans`` (training), ``assign``.

    Args:
        num_clusters (int): number of clusters ``C``; clamped to ``N``.
        niter (int): Lloyd iterations. Defaults to 20.
        spherical (bool): re-normalise the centroids after each iteration
            (cosine k-means, faiss only). Defaults to True.
        seed (int): random seed of the initialisation. Defaults to 0.
        backend (str): ``'auto'`` (faiss when installed), ``'faiss'`` or
            ``'sklearn'``. Defaults to ``'auto'``.
        use_gpu (bool, optional): faiss on a GPU; ``None`` uses one when
            faiss sees one. Defaults to None.
        progress (bool): Show a progress bar per stage. Defaults to False.
        camera_centering (bool): Remove each camera's mean feature first,
            see :class:`~mmreid_unsup.pseudo_labels.BaseLabeler`. Defaults
            to False.
        on_bad_features (str): ``'outlier'`` or ``'error'``: what becomes of
            non-finite or zero feature rows, see
            :class:`~mmreid_unsup.pseudo_labels.BaseLabeler`. Defaults to
            ``'outlier'``.
    """

    def __init__(self,
                 num_clusters: int,
                 niter: int = 20,
                 spherical: bool = True,
                 seed: int = 0,
                 backend: str = 'auto',
                 use_gpu: Optional[bool] = None,
                 progress: bool = False,
                 camera_centering: bool = False,
                 on_bad_features: str = 'outlier') -> None:
        super().__init__(
            progress=progress,
            camera_centering=camera_centering,
            on_bad_features=on_bad_features)
        if num_clusters < 1:
            raise ValueError(f'num_clusters must be >= 1, got {num_clusters}')
        if backend not in ('auto', 'faiss', 'sklearn'):
            raise ValueError(f"backend must be 'auto', 'faiss' or 'sklearn', "
                             f'got {backend!r}')
        if backend == 'faiss' and faiss is None:
            raise ImportError("backend='faiss' needs the faiss package; use "
                              "backend='sklearn'")
        self.num_clusters = num_clusters
        self.niter = niter
        self.spherical = spherical
        self.seed = seed
        self.backend = backend
        self.use_gpu = use_gpu

    def _faiss_kmeans(self, array: np.ndarray, num_clusters: int,
                      gpu: bool) -> np.ndarray:
        kmeans = faiss.Kmeans(
            array.shape[1],
            num_clusters,
            niter=self.niter,
            seed=self.seed,
            spherical=self.spherical,
            gpu=gpu,
            verbose=False)
        with self.stage('kmeans'):
            kmeans.train(array)
        with self.stage('assign'):
            _, assignment = kmeans.index.search(array, 1)
        return assignment.ravel()

    def label(self, features: torch.Tensor,
              camids: Optional[torch.Tensor]) -> np.ndarray:
        """Run k-means and assign every sample to its nearest centroid.

        Args:
            features (Tensor): ``(N, D)`` features.
            camids (Tensor, optional): ignored.

        Returns:
            np.ndarray: ``(N,)`` cluster ids in ``0..C-1``.
        """
        array = np.ascontiguousarray(
            l2_normalize(features).cpu().numpy())
        num_clusters = min(self.num_clusters, len(array))
        if self.backend == 'sklearn' or (self.backend == 'auto'
                                         and faiss is None):
            from sklearn.cluster import KMeans
            kmeans = KMeans(
                num_clusters,
                n_init=1,
                max_iter=self.niter,
                random_state=self.seed)
            with self.stage('kmeans'):
                kmeans.fit(array)
            with self.stage('assign'):
                return kmeans.predict(array)

        use_gpu = (faiss_gpu_count() > 0
                   if self.use_gpu is None else self.use_gpu)
        if use_gpu:
            try:
                return self._faiss_kmeans(array, num_clusters, gpu=True)
            except Exception as error:  # noqa: BLE001 - any GPU failure
                warnings.warn(
                    f'faiss GPU k-means failed ({type(error).__name__}: '
                    f'{error}); falling back to the CPU.',
                    RuntimeWarning,
                    stacklevel=2)
        return self._faiss_kmeans(array, num_clusters, gpu=False)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_clusters={self.num_clusters}, '
                f'niter={self.niter}, backend={self.backend!r}, '
                f'camera_centering={self.camera_centering})')
