"""The call contract every pseudo labeler follows."""
import time
from abc import ABCMeta, abstractmethod
from contextlib import contextmanager
from typing import Dict, Iterator, Optional, Union

import numpy as np
import torch
from mmengine.dist import get_rank, get_world_size

from mmreid_unsup.ops import camera_centered
from mmreid_unsup.utils.bad_features import (check_bad_feature_policy,
                                             find_bad_feature_rows,
                                             handle_bad_feature_rows)
from mmreid_unsup.utils.progress import ProgressCallback
from .profiling import StageProfiler

__all__ = ['BaseLabeler', 'relabel_contiguous']


def relabel_contiguous(labels: np.ndarray) -> np.ndarray:
    """Map the non-negative labels onto ``0..C-1``; negative ones become -1.

    The relative order of the labels is kept (the smallest becomes 0).

    Args:
        labels (np.ndarray): ``(N,)`` integer labels, negative = outlier.

    Returns:
        np.ndarray: ``(N,)`` int64 labels in ``{-1, 0, ..., C-1}``.
    """
    labels = np.asarray(labels).astype(np.int64, copy=False)
    out = np.full(labels.shape, -1, dtype=np.int64)
    kept = labels >= 0
    _, out[kept] = np.unique(labels[kept], return_inverse=True)
    return out


class BaseLabeler(metaclass=ABCMeta):
    """Base class of pseudo labelers.

    A labeler is called as ``labeler(features, camids)`` on the gathered
    features of the whole train set and returns one label per sample:
    ``0..C-1`` for the ``C`` pseudo identities, ``-1`` for outliers.
    Subclasses implement :meth:`label`, wrapping each expensive step in
    ``with self.stage(name) as progress:``; this class checks the inputs,
    relabels contiguously and records :attr:`last_stats`.

    Feature rows with a NaN or infinite element, or of zero norm, are
    checked for here, once for every labeler
    (:mod:`~mmreid_unsup.utils.bad_features`): by default they are
    labelled ``-1`` and :meth:`label` sees only the other rows, so those
    are labelled as if the bad ones were absent; a warning names how many
    rows and the first indices.

    Labelers run on whatever device the features are; none assumes a GPU.
    Under DDP ``ClusterRefreshHook`` runs a labeler on rank 0 and broadcasts
    its labels, unless the labeler can split the work over the ranks
    (:attr:`shards_across_ranks`, e.g.
    :class:`~mmreid_unsup.pseudo_labels.DBSCANLabeler`): then every rank
    calls it with ``across_ranks=True`` and each computes a share.

    Args:
        progress (bool): Show a progress bar per stage. Defaults to False.
        camera_centering (bool): Remove each camera's mean feature before
            labelling (:func:`~mmreid_unsup.ops.camera_centered`); needs
            ``camids``. Defaults to False.
        on_bad_features (str): ``'outlier'`` (bad rows labelled -1, left out
            of the search, with a warning) or ``'error'`` (stop with that
            message). Defaults to ``'outlier'``.

    Attributes:
        last_stats (dict): statistics of the last call, for logging:
            ``num_samples``, ``num_clusters``, ``num_outliers``,
            ``time_total`` (seconds), ``peak_mem_total`` (MiB) and, for each
            stage, ``time_<stage>`` (seconds) and ``peak_mem_<stage>`` (peak
            resident memory of the process during the stage, MiB; see
            :class:`~mmreid_unsup.pseudo_labels.profiling.StageProfiler`),
            ``nonfinite_rows`` and ``zero_rows`` (the bad feature rows),
            plus whatever :meth:`label` put into ``self.last_stats``. In a
            call across ranks, a rank's own (rank 0 logs them).
        splitting_over_ranks (bool): during a call, whether this labelling
            is split over the ranks of a process group (``across_ranks=True``
            with more than one rank); :meth:`label` reads it.
    """

    #: Whether the labeler can split one labelling over the ranks of a
    #: process group when every rank calls it with ``across_ranks=True``.
    shards_across_ranks = False

    #: Whether :meth:`label` returns sample indices (partners, ``(N, K)``)
    #: rather than cluster ids: they are then mapped back to the full set
    #: when bad rows were left out.
    labels_are_sample_indices = False

    def __init__(self,
                 progress: bool = False,
                 camera_centering: bool = False,
                 on_bad_features: str = 'outlier') -> None:
        self.progress = progress
        self.camera_centering = camera_centering
        self.on_bad_features = check_bad_feature_policy(
            on_bad_features, type(self).__name__)
        self.last_stats: Dict[str, Union[int, float]] = {}
        self.splitting_over_ranks = False
        self._profiler = StageProfiler()

    @contextmanager
    def stage(self, name: str) -> Iterator[ProgressCallback]:
        """Time, measure and display one stage of :meth:`label`.

        Args:
            name (str): Stage name (``knn``, ``jaccard``, ...).

        Yields:
            ProgressCallback: ``progress(num_done, num_total)``.
        """
        with self._profiler.stage(name) as progress:
            yield progress

    @abstractmethod
    def label(self, features: torch.Tensor,
              camids: Optional[torch.Tensor]) -> np.ndarray:
        """Assign raw cluster labels.

        Args:
            features (Tensor): ``(N, D)`` features.
            camids (Tensor, optional): ``(N,)`` camera ids.

        Returns:
            np.ndarray: ``(N,)`` integer labels, negative for outliers; they
            need not be contiguous.
        """

    def prepare_features(self, features: torch.Tensor,
                         camids: Optional[torch.Tensor]) -> torch.Tensor:
        """The features the labeler works on: camera-centred when asked.

        Args:
            features (Tensor): ``(N, D)`` features.
            camids (Tensor, optional): ``(N,)`` camera ids.

        Returns:
            Tensor: ``features`` itself, or their camera-centred version.

        Raises:
            ValueError: ``camera_centering=True`` without ``camids``.
        """
        if not self.camera_centering:
            return features
        if camids is None:
            raise ValueError(f'{type(self).__name__}(camera_centering=True) '
                             'needs the camera ids: call it as '
                             'labeler(features, camids)')
        return camera_centered(features, torch.as_tensor(camids))

    def label_good_rows(self, features: torch.Tensor,
                        camids: Optional[torch.Tensor]) -> np.ndarray:
        """Apply the bad-row policy, then :meth:`label` the good rows.

        Camera centring (when on) uses the good rows only. Records
        ``nonfinite_rows`` and ``zero_rows`` in :attr:`last_stats`.

        Args:
            features (Tensor): ``(N, D)`` features of all samples.
            camids (Tensor, optional): ``(N,)`` camera ids.

        Returns:
            np.ndarray: :meth:`label`'s output for all ``N`` samples: the
            bad rows get ``-1`` (a whole row of ``-1`` for a ``(N, K)``
            output) and, with :attr:`labels_are_sample_indices`, the good
            rows' values are indices into the full set.

        Raises:
            ValueError: If there are bad rows and
                ``on_bad_features='error'``.
        """
        bad = find_bad_feature_rows(features)
        handle_bad_feature_rows(
            bad,
            self.on_bad_features,
            type(self).__name__,
            consequence=('they get no partner' if
                         self.labels_are_sample_indices else 'they become '
                         'outliers (label -1)') +
            ' and are left out of the neighbour search')
        self.last_stats.update(bad.stats())
        if not bad.num_bad:
            return np.asarray(
                self.label(self.prepare_features(features, camids), camids))
        good = torch.nonzero(~bad.bad_mask).flatten().to(features.device)
        if camids is not None:
            camids = torch.as_tensor(camids)
            camids = camids[good.to(camids.device)]
        if good.numel():
            raw = np.asarray(
                self.label(self.prepare_features(features[good], camids),
                           camids))
        else:  # nothing left to label
            width = getattr(self, 'label_width', None)
            raw = np.zeros((0, ) if width is None else (0, width), np.int64)
        good = good.cpu().numpy()
        if self.labels_are_sample_indices:
            raw = np.where(raw >= 0, good[raw.clip(min=0)], -1)
        out = np.full((features.size(0), ) + raw.shape[1:], -1,
                      dtype=np.int64)
        out[good] = raw
        return out

    def __call__(self,
                 features: torch.Tensor,
                 camids: Optional[torch.Tensor] = None,
                 across_ranks: bool = False) -> torch.Tensor:
        """Label the samples.

        Args:
            features (Tensor): ``(N, D)`` features of all samples.
            camids (Tensor, optional): ``(N,)`` camera ids. Labelers that do
                not use cameras ignore them.
            across_ranks (bool): Every rank of the default process group
                makes this call, with the same features and cameras, and the
                labeler splits the work over them (only for labelers whose
                :attr:`shards_across_ranks` is True); every rank returns the
                same labels. A call on some ranks only would wait for the
                others forever. Without a process group (or with one rank)
                the labeler runs alone. Defaults to False (this process
                labels alone, whatever the other ranks do).

        Returns:
            Tensor: ``(N,)`` int64 labels on the features' device, ``0..C-1``
            for clusters and ``-1`` for outliers.

        Raises:
            ValueError: ``across_ranks=True`` for a labeler that cannot
                split its work.
        """
        if across_ranks and not self.shards_across_ranks:
            raise ValueError(
                f'{type(self).__name__} cannot split its work over ranks '
                '(shards_across_ranks is False): call it on one rank with '
                'across_ranks=False and broadcast its labels')
        if features.dim() != 2:
            raise ValueError('features must have shape (N, D), got '
                             f'{tuple(features.shape)}')
        if camids is not None and camids.shape != (features.size(0), ):
            raise ValueError(f'camids must have shape ({features.size(0)},), '
                             f'got {tuple(camids.shape)}')
        self.last_stats = {}
        self.splitting_over_ranks = across_ranks and get_world_size() > 1
        # One progress bar per stage, on rank 0 only when several ranks run.
        self._profiler = StageProfiler(
            progress=self.progress and get_rank() == 0,
            device=features.device)
        start = time.perf_counter()
        labels = relabel_contiguous(self.label_good_rows(features, camids))
        if labels.shape != (features.size(0), ):
            raise RuntimeError(f'{type(self).__name__}.label returned shape '
                               f'{labels.shape} for {features.size(0)} '
                               'samples')
        self.last_stats.update(
            num_samples=int(labels.size),
            num_clusters=int(labels.max(initial=-1) + 1),
            num_outliers=int((labels < 0).sum()),
            time_total=time.perf_counter() - start)
        self.last_stats.update(self._profiler.stats)
        peaks = [v for k, v in self._profiler.stats.items()
                 if k.startswith('peak_mem_')]
        if peaks:
            self.last_stats['peak_mem_total'] = max(peaks)
        return torch.from_numpy(labels).to(features.device)
