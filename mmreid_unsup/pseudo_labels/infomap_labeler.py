"""InfoMap (map equation) community detection on the kNN similarity graph."""
from typing import Optional

import numpy as np
import scipy.sparse as sp
import torch

# ``mmreid_unsup.ops`` imports faiss, which must be loaded before infomap:
# with the wheels of faiss-cpu 1.15 and infomap 2.16, importing faiss *after*
# infomap makes ``infomap.run`` crash the process (segmentation fault).
from mmreid_unsup.ops import knn_search, l2_normalize
from mmreid_unsup.registry import PSEUDO_LABELERS
from .base_labeler import BaseLabeler

try:
    import infomap
except ImportError:  # pragma: no cover - exercised only without infomap
    infomap = None

__all__ = ['InfomapLabeler', 'knn_similarity_graph']


def knn_similarity_graph(features: torch.Tensor,
                         k: int,
                         min_sim: float,
                         backend: str = 'auto') -> sp.csr_matrix:
    """Symmetric kNN graph weighted by cosine similarity.

    Args:
        features (Tensor): ``(N, D)`` features; L2-normalised here.
        k (int): neighbours per sample, itself included (and then dropped).
        min_sim (float): edges with cosine similarity below this are dropped.
        backend (str): kNN backend, see
            :func:`~mmreid_unsup.ops.knn_search`.

    Returns:
        scipy.sparse.csr_matrix: ``(N, N)`` float32 with ``A[i, j] =
        cos(f_i, f_j)`` when ``j`` is among the ``k`` nearest neighbours of
        ``i`` or ``i`` among those of ``j`` and the similarity is at least
        ``min_sim``; no self-loops.
    """
    num = features.size(0)
    dists, indices = knn_search(features, k, backend=backend)
    sims = (1 - dists.cpu().numpy() / 2).ravel()
    rows = np.repeat(np.arange(num), k)
    cols = indices.cpu().numpy().ravel()
    kept = (rows != cols) & (sims >= min_sim)
    graph = sp.csr_matrix((sims[kept], (rows[kept], cols[kept])),
                          shape=(num, num),
                          dtype=np.float32)
    return graph.maximum(graph.T).tocsr()


@PSEUDO_LABELERS.register_module()
class InfomapLabeler(BaseLabeler):
    """Cluster with InfoMap on the kNN cosine-similarity graph.

    Each sample links to its ``k`` nearest neighbours whose cosine
    similarity is at least ``min_sim``, weighted by that similarity; the
    two-level map equation (PyPI ``infomap``) partitions the undirected
    graph. Samples without a link, or in a module smaller than
    ``min_cluster_size``, are outliers. This is the recipe of InfoMap-based
    face clustering (Rosvall & Bergstrom's map equation on a kNN graph),
    here with the toolbox's exact kNN backends. Cameras are not used.

    Stages in :attr:`last_stats`: ``knn`` (kNN search and graph),
    ``infomap``.

    Args:
        k (int): neighbours per sample, itself included. Clamped to the
            number of samples. Defaults to 15.
        min_sim (float): minimum cosine similarity of an edge. Defaults to
            0.5.
        min_cluster_size (int): smaller modules become outliers. Defaults to
            2.
        num_trials (int): InfoMap restarts; the best partition is kept.
            Defaults to 1.
        seed (int): InfoMap's random seed, ``>= 1``. Defaults to 1.
        knn_backend (str): see
            :func:`~mmreid_unsup.ops.knn_search`. Defaults to
            ``'auto'``.
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
                 k: int = 15,
                 min_sim: float = 0.5,
                 min_cluster_size: int = 2,
                 num_trials: int = 1,
                 seed: int = 1,
                 knn_backend: str = 'auto',
                 progress: bool = False,
                 camera_centering: bool = False,
                 on_bad_features: str = 'outlier') -> None:
        super().__init__(
            progress=progress,
            camera_centering=camera_centering,
            on_bad_features=on_bad_features)
        if infomap is None:
            raise ImportError('InfomapLabeler needs the `infomap` package '
                              '(pip install infomap)')
        if k < 2:
            raise ValueError(f'k must be >= 2 (the sample itself is the '
                             f'first neighbour), got {k}')
        if seed < 1:
            raise ValueError(f'InfoMap seeds start at 1, got seed={seed}')
        self.k = k
        self.min_sim = min_sim
        self.min_cluster_size = min_cluster_size
        self.num_trials = num_trials
        self.seed = seed
        self.knn_backend = knn_backend

    def label(self, features: torch.Tensor,
              camids: Optional[torch.Tensor]) -> np.ndarray:
        """Build the kNN graph and partition it with InfoMap.

        Args:
            features (Tensor): ``(N, D)`` features.
            camids (Tensor, optional): ignored.

        Returns:
            np.ndarray: ``(N,)`` module ids, -1 for outliers.
        """
        num = features.size(0)
        features = l2_normalize(features)
        with self.stage('knn'):
            graph = knn_similarity_graph(features, min(self.k, num),
                                         self.min_sim, self.knn_backend)
            self.last_stats['graph_nnz'] = int(graph.nnz)

        labels = np.full(num, -1, dtype=np.int64)
        if graph.nnz == 0:
            return labels
        with self.stage('infomap'):
            network = infomap.Network.from_scipy_sparse_matrix(
                graph, directed=False)
            result = infomap.run(
                network,
                two_level=True,
                seed=self.seed,
                num_trials=self.num_trials)
            modules = result.modules()
        nodes = np.fromiter(modules.keys(), dtype=np.int64, count=len(modules))
        labels[nodes] = np.fromiter(
            modules.values(), dtype=np.int64, count=len(modules))
        # InfoMap files nodes without links into some module: they are
        # outliers.
        labels[graph.getnnz(axis=1) == 0] = -1
        sizes = np.bincount(labels[labels >= 0])
        labels[(labels >= 0)
               & (sizes[labels.clip(min=0)] < self.min_cluster_size)] = -1
        return labels

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(k={self.k}, min_sim={self.min_sim}, '
                f'min_cluster_size={self.min_cluster_size}, '
                f'knn_backend={self.knn_backend!r}, '
                f'camera_centering={self.camera_centering})')
