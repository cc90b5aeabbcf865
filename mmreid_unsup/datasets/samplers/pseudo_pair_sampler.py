"""Batches of anchors with their pseudo partners (PPSSL)."""
from typing import List, Optional, Sequence

import numpy as np
import torch
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from mmreid_unsup.registry import DATA_SAMPLERS
from .seeded_index import SeededBatchesMixin


@DATA_SAMPLERS.register_module()
class PseudoPairSampler(SeededBatchesMixin, Sampler):
    """Groups of an anchor and up to ``K - 1`` of its pseudo partners.

    The pair-aware identity sampler of PPSSL: pair losses need each anchor's
    partners in the same batch. A batch is filled with groups: an anchor
    (drawn in a shuffled order, cycled as often as the epoch needs) and up to
    ``num_instances - 1`` of its partners (a random subset when it has more),
    leaving out images already in the batch; the last group is cut to the
    batch size. With ``paired_anchors=True`` anchors are drawn among the
    images that have a partner (all images when none has).

    Partners come from :meth:`set_labels`, called by ``ClusterRefreshHook``
    with the ``(N, K)`` matrix of a
    :class:`~mmreid_unsup.pseudo_labels.PseudoPairLabeler` (``-1``
    padding).

    The epoch length is fixed (``iters_per_epoch`` batches per rank). Under
    DDP all ranks build the same ``iters_per_epoch * world_size`` batches
    from a shared seed and rank ``r`` takes batches ``r, r + W, ...``, so a
    group never spans two ranks. Indices are yielded as
    :class:`~.seeded_index.SeededIndex` (each sample's augmentation seeded
    from ``(seed, epoch, position)``) and :meth:`skip_batches` fast-forwards
    a resumed epoch (:class:`~.seeded_index.SeededBatchesMixin`).

    Args:
        dataset: The training dataset; ``len(dataset)`` images, at least
            ``batch_size``.
        batch_size (int): Images per batch on one rank. Must equal the
            dataloader's ``batch_size``.
        num_instances (int): Most images per group (the anchor included).
            Defaults to 4.
        iters_per_epoch (int): Batches per epoch on one rank. Defaults to
            200.
        paired_anchors (bool): Draw anchors among images with a partner.
            Defaults to True.
        seed (int, optional): Shared random seed; synchronised across ranks
            when None.
    """

    def __init__(self,
                 dataset,
                 batch_size: int,
                 num_instances: int = 4,
                 iters_per_epoch: int = 200,
                 paired_anchors: bool = True,
                 seed: Optional[int] = None) -> None:
        if num_instances < 1 or iters_per_epoch < 1:
            raise ValueError('PseudoPairSampler: num_instances and '
                             'iters_per_epoch must be >= 1, got '
                             f'{num_instances} and {iters_per_epoch}')
        if not 1 <= batch_size <= len(dataset):
            raise ValueError(
                f'PseudoPairSampler: batch_size={batch_size} must be in 1..'
                f'{len(dataset)} (the dataset size): a batch holds distinct '
                'images')
        self.dataset = dataset
        self.batch_size = batch_size
        self.num_instances = num_instances
        self.iters_per_epoch = iters_per_epoch
        self.paired_anchors = paired_anchors
        self.seed = sync_random_seed() if seed is None else seed
        self.rank, self.world_size = get_dist_info()
        self.epoch = 0
        self.partners: Optional[np.ndarray] = None

    def set_labels(self,
                   labels: Sequence,
                   camids: Optional[Sequence[int]] = None) -> None:
        """Give the sampler the current pseudo partners.

        Args:
            labels: ``(N, K)`` partner indices, ``-1`` padding.
            camids: Unused (the partners already encode the cameras'
                role); accepted for ``ClusterRefreshHook``.
        """
        partners = np.asarray(
            labels.cpu() if isinstance(labels, torch.Tensor) else labels,
            dtype=np.int64)
        if partners.ndim != 2 or partners.shape[0] != len(self.dataset):
            raise ValueError(
                'PseudoPairSampler.set_labels: expected a '
                f'({len(self.dataset)}, K) partner matrix, got shape '
                f'{partners.shape}; is the labeler a PseudoPairLabeler?')
        if partners.size and int(partners.max()) >= len(self.dataset):
            raise ValueError('PseudoPairSampler.set_labels: partner index '
                             f'{int(partners.max())} out of range for '
                             f'{len(self.dataset)} images')
        self.partners = partners

    def _anchor_pool(self) -> np.ndarray:
        if self.paired_anchors:
            paired = np.flatnonzero((self.partners >= 0).any(axis=1))
            if paired.size:
                return paired
        return np.arange(len(self.dataset))

    def _global_batches(self) -> List[List[int]]:
        """The epoch's batches for all ranks, identical on every rank."""
        if self.partners is None:
            raise RuntimeError(
                'PseudoPairSampler has no partners yet: ClusterRefreshHook '
                '(with PseudoPairLabeler) must run before the first epoch')
        rng = np.random.default_rng([self.seed, self.epoch])
        pool = self._anchor_pool()
        order, cursor = rng.permutation(pool), 0
        batches: List[List[int]] = []
        for _ in range(self.iters_per_epoch * self.world_size):
            batch: List[int] = []
            used = set()
            misses = 0
            while len(batch) < self.batch_size:
                if cursor == order.size:
                    order, cursor = rng.permutation(pool), 0
                anchor = int(order[cursor])
                cursor += 1
                if anchor in used:
                    misses += 1
                    if misses > pool.size:  # every anchor is in already
                        pool = np.arange(len(self.dataset))
                        order, cursor = rng.permutation(pool), 0
                    continue
                misses = 0
                mates = self.partners[anchor]
                mates = [
                    int(m) for m in rng.permutation(mates[mates >= 0])
                    if int(m) not in used
                ][:self.num_instances - 1]
                group = ([anchor] + mates)[:self.batch_size - len(batch)]
                batch += group
                used.update(group)
            batches.append(batch)
        return batches
