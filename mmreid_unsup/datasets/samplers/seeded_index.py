"""Dataset indices that carry the random seed of their sample's augmentation.

Random augmentation normally draws from whichever process loads the sample:
the main process, or one of the dataloader workers, each with a random
stream that depends on how many samples it loaded before. A run resumed in
the middle of an epoch, or run with another ``num_workers``, then sees
different augmentations. Our samplers instead give every position of an
epoch its own seed, derived from ``(seed, epoch, position)`` only, and yield
the index as a :class:`SeededIndex`; :class:`BaseReIDDataset` runs the
pipeline of such an index inside
:func:`~mmreid_unsup.utils.seeded_random_state`. The augmentation of a
sample is then the same whatever process loads it, whatever it loaded
before, and after any resume.

A :class:`SeededIndex` is an ``int``: a dataset that does not know about
seeds simply indexes with it.
"""
import numpy as np


class SeededIndex(int):
    """An ``int`` dataset index with the seed of its sample's augmentation.

    Args:
        index (int): The dataset index.
        seed (int): The augmentation seed, in ``[0, 2**32)``.
    """

    def __new__(cls, index: int, seed: int) -> 'SeededIndex':
        obj = super().__new__(cls, index)
        obj.seed = int(seed)
        return obj

    def __reduce__(self):
        # Sent to dataloader workers through pickling.
        return SeededIndex, (int(self), self.seed)

    def __repr__(self) -> str:
        return f'SeededIndex({int(self)}, seed={self.seed})'


def sample_seeds(seed: int, epoch: int, count: int) -> np.ndarray:
    """One augmentation seed per position of an epoch's index stream.

    The seeds come from their own stream (a child of
    ``SeedSequence([seed, epoch])``), so they do not change the batches a
    sampler draws from ``default_rng([seed, epoch])``.

    Args:
        seed (int): The sampler's seed.
        epoch (int): The epoch.
        count (int): The number of positions (all ranks together).

    Returns:
        np.ndarray: ``uint32`` seeds, shape ``(count,)``.
    """
    child = np.random.SeedSequence([seed, epoch]).spawn(1)[0]
    return np.random.default_rng(child).integers(
        0, 2**32, size=count, dtype=np.uint32)


class SeededBatchesMixin:
    """``__iter__``, ``skip_batches``, ``set_epoch`` and ``__len__`` for
    fixed-length batch samplers.

    For a sampler that builds the same list of ``iters_per_epoch *
    world_size`` batches on every rank (``_global_batches()``, from its
    ``seed`` and ``epoch``) and gives rank ``r`` batches ``r, r + W, ...``.
    Each index is yielded as a :class:`SeededIndex` whose seed depends on
    ``(seed, epoch, position in the global list)`` (:func:`sample_seeds`).

    :meth:`skip_batches` is the fast-forward of
    :class:`~mmreid_unsup.engine.runners.ResumableEpochBasedTrainLoop`: the
    next iteration starts after the first ``num_batches`` batches of the
    rank, without loading their images, and yields exactly what an
    uninterrupted epoch would have yielded from there (same indices, same
    seeds).
    """

    _skip = 0

    def set_epoch(self, epoch: int) -> None:
        """Called by MMEngine's train loop before each epoch."""
        self.epoch = epoch

    def __len__(self) -> int:
        """Indices per epoch on this rank."""
        return self.iters_per_epoch * self.batch_size

    def skip_batches(self, num_batches: int) -> None:
        """Start the next iteration (only) at this rank's batch
        ``num_batches``.

        Args:
            num_batches (int): Batches of the epoch already trained, in
                ``[0, iters_per_epoch]``.

        Raises:
            ValueError: If ``num_batches`` is out of range.
        """
        if not 0 <= num_batches <= self.iters_per_epoch:
            raise ValueError(
                f'{type(self).__name__}.skip_batches: num_batches must be in '
                f'[0, iters_per_epoch={self.iters_per_epoch}], got '
                f'{num_batches}')
        self._skip = int(num_batches)

    def __iter__(self):
        batches = self._global_batches()
        skip, self._skip = self._skip, 0
        batch_size = self.batch_size
        seeds = sample_seeds(self.seed, self.epoch, len(batches) * batch_size)
        start = self.rank + skip * self.world_size
        for position in range(start, len(batches), self.world_size):
            offset = position * batch_size
            for slot, index in enumerate(batches[position]):
                yield SeededIndex(int(index), seeds[offset + slot])
