"""P x K identity sampler with a fixed epoch length."""
import logging
from typing import List, Optional, Sequence

import numpy as np
import torch
from mmengine.dist import get_dist_info, sync_random_seed
from mmengine.logging import print_log
from torch.utils.data import Sampler

from mmreid_unsup.registry import DATA_SAMPLERS
from .seeded_index import SeededBatchesMixin


@DATA_SAMPLERS.register_module()
class CameraAwareIdentitySampler(SeededBatchesMixin, Sampler):
    """Sample ``P`` pseudo identities x ``K`` instances per batch.

    Every batch holds ``batch_size // num_instances`` identities with
    ``num_instances`` images each. For each identity one anchor is drawn, and
    the other ``K - 1`` images are drawn from *other cameras* than the
    anchor's when there are any (the cross-camera pairs are what unsupervised
    re-ID has to learn from), otherwise from the identity's other images.
    Too few images are completed by drawing with replacement.

    The epoch length is fixed: ``iters_per_epoch`` batches per rank, whatever
    the number of clusters, because MMEngine computes ``max_iters`` once
    before training. Identities are visited in a shuffled order, cycled as
    often as the epoch needs. Under DDP all ranks build the same list of
    ``iters_per_epoch * world_size`` batches from a shared seed and rank
    ``r`` takes batches ``r, r + W, r + 2W, ...``, so each rank trains on
    different batches.

    Labels come from :meth:`set_labels`, called by ``ClusterRefreshHook``;
    label ``-1`` (outlier) is never drawn, nor is an identity with a single
    image (it cannot form a positive pair) while some identity has two or
    more.

    Indices are yielded as :class:`~.seeded_index.SeededIndex`: each
    sample's augmentation is seeded from ``(seed, epoch, position)``, and
    :meth:`skip_batches` fast-forwards a resumed epoch (see
    :class:`~.seeded_index.SeededBatchesMixin`).

    Degenerate pseudo labels never stop the sampler; each case is logged as
    a warning by :meth:`set_labels` (so once per refresh):

    - *No identity with two or more images* (every sample an outlier or a
      singleton cluster; ``ClusterRefreshHook`` turns all-outlier labels
      into one class per image when it has no earlier labels to keep): the
      singleton identities are drawn, each image repeated ``K`` times, so
      its ``K`` augmentations are the positives (instance discrimination).
      Only labels that are all ``-1`` leave nothing to draw, an error at
      iteration time.
    - *Fewer trainable identities than* ``P`` (``batch_size //
      num_instances``): batches are still full; the shuffled identity order
      restarts inside the batch, so an identity can fill several of the
      ``P`` slots, each with its own anchor and partners.
    - *A single camera* (``camera_aware=True``): partners come from the
      anchor's own camera, as for any identity seen by one camera only.

    Args:
        dataset: The training dataset; ``len(dataset)`` images.
        batch_size (int): Images per batch on one rank. Must equal the
            dataloader's ``batch_size``.
        num_instances (int): ``K``, images per identity in a batch.
        iters_per_epoch (int): Batches per epoch on one rank.
        camera_aware (bool): Draw the ``K - 1`` partners of an anchor from
            other cameras when possible. Defaults to True.
        seed (int, optional): Shared random seed; synchronised across ranks
            when None.
    """

    def __init__(self,
                 dataset,
                 batch_size: int,
                 num_instances: int = 4,
                 iters_per_epoch: int = 200,
                 camera_aware: bool = True,
                 seed: Optional[int] = None) -> None:
        if batch_size % num_instances != 0:
            raise ValueError(
                f'CameraAwareIdentitySampler: batch_size={batch_size} must be '
                f'a multiple of num_instances={num_instances}')
        if iters_per_epoch < 1:
            raise ValueError('CameraAwareIdentitySampler: iters_per_epoch '
                             f'must be >= 1, got {iters_per_epoch}')
        self.dataset = dataset
        self.batch_size = batch_size
        self.num_instances = num_instances
        self.ids_per_batch = batch_size // num_instances
        self.iters_per_epoch = iters_per_epoch
        self.camera_aware = camera_aware
        self.seed = sync_random_seed() if seed is None else seed
        self.rank, self.world_size = get_dist_info()
        self.epoch = 0
        self.labels: Optional[np.ndarray] = None
        self.camids: Optional[np.ndarray] = None
        #: The warnings of the last :meth:`set_labels` (degenerate labels).
        self.label_warnings: List[str] = []

    def set_labels(self, labels: Sequence[int],
                   camids: Optional[Sequence[int]] = None) -> None:
        """Give the sampler the current pseudo labels.

        Args:
            labels: One label per dataset sample, ``-1`` for outliers.
            camids: One camera id per sample; None disables camera mixing.
        """
        labels = np.asarray(
            labels.cpu() if isinstance(labels, torch.Tensor) else labels,
            dtype=np.int64)
        if labels.shape != (len(self.dataset), ):
            raise ValueError(
                f'CameraAwareIdentitySampler.set_labels: got {labels.shape} '
                f'labels for a dataset of {len(self.dataset)} samples')
        self.labels = labels
        self.camids = None if camids is None else np.asarray(
            camids.cpu() if isinstance(camids, torch.Tensor) else camids,
            dtype=np.int64)
        self.label_warnings = self._degenerate_label_warnings()
        for message in self.label_warnings:
            print_log(message, logger='current', level=logging.WARNING)

    def _degenerate_label_warnings(self) -> List[str]:
        """What this sampler does differently with these labels, and why."""
        name = type(self).__name__
        warnings = []
        num_trainable = len(self._groups())
        num_singletons = len(self._groups(min_size=1)) - num_trainable
        if num_trainable == 0 and num_singletons > 0:
            warnings.append(
                f'{name}: no pseudo identity has two or more images '
                f'({num_singletons} single-image identities, '
                f'{int((self.labels < 0).sum())} outliers); policy: each '
                f'batch draws {self.ids_per_batch} single images and repeats '
                f'each {self.num_instances} times, so its augmentations are '
                'the positives')
        elif 0 < num_trainable < self.ids_per_batch:
            warnings.append(
                f'{name}: {num_trainable} trainable pseudo identities (two or '
                f'more images) for {self.ids_per_batch} identities per batch; '
                'policy: batches stay full, identities repeat within a batch, '
                'each time with its own anchor and partners')
        if (self.camera_aware and self.camids is not None
                and np.unique(self.camids).size == 1):
            warnings.append(
                f'{name}: camera_aware=True but every training image comes '
                f'from camera {int(self.camids[0])}; policy: partners are '
                "drawn from the anchor's own camera")
        return warnings

    def _groups(self, min_size: int = 2) -> List[np.ndarray]:
        """Indices of each identity with at least ``min_size`` images."""
        valid = np.flatnonzero(self.labels >= 0)
        if valid.size == 0:
            return []
        order = np.argsort(self.labels[valid], kind='stable')
        sorted_idx = valid[order]
        _, starts = np.unique(self.labels[sorted_idx], return_index=True)
        groups = np.split(sorted_idx, starts[1:])
        return [g for g in groups if g.size >= min_size]

    def _draw_identity(self, members: np.ndarray,
                       rng: np.random.Generator) -> List[int]:
        """One anchor and ``K - 1`` partners of one identity."""
        anchor = members[rng.integers(members.size)]
        rest = members[members != anchor]
        k = self.num_instances - 1
        if rest.size == 0:  # a single-image identity: repeat the image
            return [int(anchor)] * self.num_instances
        if self.camera_aware and self.camids is not None:
            other_cam = rest[self.camids[rest] != self.camids[anchor]]
            if other_cam.size > 0:
                rest = other_cam
        partners = rng.choice(rest, size=k, replace=rest.size < k)
        return [int(anchor)] + partners.tolist()

    def _global_batches(self) -> List[List[int]]:
        """The epoch's batches for all ranks, identical on every rank."""
        if self.labels is None:
            raise RuntimeError(
                'CameraAwareIdentitySampler has no labels yet: '
                'ClusterRefreshHook must run before the first epoch '
                '(is it in custom_hooks?)')
        groups = self._groups() or self._groups(min_size=1)
        if not groups:
            raise RuntimeError(
                'CameraAwareIdentitySampler: every sample is an outlier '
                '(label -1), nothing to draw; ClusterRefreshHook replaces '
                'such labels (see its on_no_clusters)')
        rng = np.random.default_rng([self.seed, self.epoch])
        num_batches = self.iters_per_epoch * self.world_size
        batches: List[List[int]] = []
        order = rng.permutation(len(groups))
        cursor = 0
        while len(batches) < num_batches:
            batch: List[int] = []
            for _ in range(self.ids_per_batch):
                if cursor == len(order):
                    order, cursor = rng.permutation(len(groups)), 0
                batch += self._draw_identity(groups[order[cursor]], rng)
                cursor += 1
            batches.append(batch)
        return batches

