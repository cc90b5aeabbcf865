"""Random instance sampler with a fixed epoch length (no labels needed)."""
import math
from typing import List, Optional

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from mmreid_unsup.registry import DATA_SAMPLERS
from .seeded_index import SeededBatchesMixin


@DATA_SAMPLERS.register_module()
class RandomInstanceSampler(SeededBatchesMixin, Sampler):
    """Shuffled images, optionally balanced over cameras, no identities.

    For methods that learn from instances rather than clusters (SCL), where
    a batch is simply a random set of images. The dataset is visited in
    shuffled passes without replacement, cycled as often as the epoch needs.
    With ``camera_balanced=True`` the batch slots go to the cameras in turn
    (a shuffled camera order, continued across batches) and each camera
    gives its images in its own shuffled, cycled order, so every camera is
    equally represented whatever its size.

    The epoch length is fixed: ``iters_per_epoch`` batches per rank
    (default: one pass over the dataset, split over the ranks). Under DDP
    all ranks build the same list of ``iters_per_epoch * world_size``
    batches from a shared seed and rank ``r`` takes batches ``r, r + W,
    r + 2W, ...``.

    Indices are yielded as :class:`~.seeded_index.SeededIndex` (each
    sample's augmentation seeded from ``(seed, epoch, position)``) and
    :meth:`skip_batches` fast-forwards a resumed epoch, see
    :class:`~.seeded_index.SeededBatchesMixin`.

    Args:
        dataset: The training dataset (``get_camids()`` when
            ``camera_balanced``).
        batch_size (int): Images per batch on one rank. Must equal the
            dataloader's ``batch_size``.
        iters_per_epoch (int, optional): Batches per epoch on one rank.
            Defaults to ``ceil(len(dataset) / (batch_size * world_size))``.
        camera_balanced (bool): Give every camera the same share of each
            batch. Defaults to False (SCL's plain ``shuffle=True``).
        seed (int, optional): Shared random seed; synchronised across ranks
            when None.
    """

    def __init__(self,
                 dataset,
                 batch_size: int,
                 iters_per_epoch: Optional[int] = None,
                 camera_balanced: bool = False,
                 seed: Optional[int] = None) -> None:
        if batch_size < 1:
            raise ValueError('RandomInstanceSampler: batch_size must be >= '
                             f'1, got {batch_size}')
        self.rank, self.world_size = get_dist_info()
        if iters_per_epoch is None:
            iters_per_epoch = math.ceil(
                len(dataset) / (batch_size * self.world_size))
        if iters_per_epoch < 1:
            raise ValueError('RandomInstanceSampler: iters_per_epoch must be '
                             f'>= 1, got {iters_per_epoch}')
        if len(dataset) == 0:
            raise ValueError('RandomInstanceSampler: the dataset is empty')
        self.dataset = dataset
        self.batch_size = batch_size
        self.iters_per_epoch = iters_per_epoch
        self.camera_balanced = camera_balanced
        self.seed = sync_random_seed() if seed is None else seed
        self.epoch = 0
        self.camids: Optional[np.ndarray] = None
        if camera_balanced:
            self.camids = np.asarray(dataset.get_camids(), dtype=np.int64)

    @staticmethod
    def _cycled(pool: np.ndarray, count: int,
                rng: np.random.Generator) -> np.ndarray:
        """``count`` items of ``pool``: shuffled passes, concatenated."""
        passes = math.ceil(count / pool.size)
        return np.concatenate([rng.permutation(pool)
                               for _ in range(passes)])[:count]

    def _global_stream(self) -> np.ndarray:
        """The epoch's indices for all ranks, identical on every rank."""
        rng = np.random.default_rng([self.seed, self.epoch])
        total = self.iters_per_epoch * self.world_size * self.batch_size
        if not self.camera_balanced:
            return self._cycled(np.arange(len(self.dataset)), total, rng)
        cams = np.unique(self.camids)
        cam_order = self._cycled(cams, total, rng)
        counts = {int(c): int((cam_order == c).sum()) for c in cams}
        queues = {
            c: iter(self._cycled(np.flatnonzero(self.camids == c), n, rng))
            for c, n in counts.items()
        }
        return np.array([next(queues[int(c)]) for c in cam_order])

    def _global_batches(self) -> List[np.ndarray]:
        """The epoch's batches for all ranks, identical on every rank."""
        return np.split(self._global_stream(),
                        self.iters_per_epoch * self.world_size)
