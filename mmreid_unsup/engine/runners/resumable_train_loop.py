"""An epoch-based train loop continuing a resumed epoch where it stopped."""
from typing import Iterator, Optional, Sequence

from mmengine.runner import EpochBasedTrainLoop

from mmreid_unsup.registry import LOOPS
from ..contracts import SkippableSampler, find_sampler

#: Runtime-info key (message hub, saved in every checkpoint) of the
#: position in the epoch: ``dict(epoch, batches_done, epoch_length)``.
EPOCH_PROGRESS_KEY = 'train_epoch_progress'


@LOOPS.register_module()
class ResumableEpochBasedTrainLoop(EpochBasedTrainLoop):
    """MMEngine's ``EpochBasedTrainLoop`` that resumes exactly in mid-epoch.

    MMEngine 0.10 can save a checkpoint every ``n`` iterations of an epoch
    (``CheckpointHook(by_epoch=False)``), but resuming from it restarts the
    epoch at its first batch: the batches trained before the checkpoint are
    trained again, the iteration counter overshoots ``max_iters`` by as
    many, and the random generators start from the run's seed, not from
    where the checkpoint left them.

    This loop records its position in the epoch in the message hub
    (:data:`EPOCH_PROGRESS_KEY`, saved with every checkpoint) before each
    iteration. When a resumed run starts inside an epoch, the epoch's
    hooks run as usual (``before_train_epoch``: the sampler gets its epoch
    and the restored pseudo labels, nothing is re-clustered), then the
    sampler is fast-forwarded past the batches already trained
    (``skip_batches``, without loading their images) and the epoch
    continues with the next batch and the next iteration number. With
    :class:`~mmreid_unsup.engine.hooks.RandomStateHook` restoring the random
    generators and samplers that seed each sample's augmentation
    (:class:`~mmreid_unsup.datasets.samplers.seeded_index.SeededIndex`),
    the rest of the run is the one an uninterrupted run would have done.

    A sampler without ``skip_batches`` (the ``SkippableSampler`` contract of
    :mod:`mmreid_unsup.engine.contracts`) is fast-forwarded by loading and
    dropping the batches (slower, and exact only if its augmentation does
    not depend on the process). A checkpoint without the position (saved by
    another loop) is resumed the MMEngine way, with a warning.

    Args: as :class:`mmengine.runner.EpochBasedTrainLoop`.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._resume_checked = False

    def run_epoch(self) -> None:
        """Iterate one epoch, from its resume point if the run resumed in it.
        """
        start = self._resume_position()
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        for idx, data_batch in enumerate(self._batches(start), start):
            self.run_iter(idx, data_batch)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1

    def run_iter(self, idx: int, data_batch: Sequence[dict]) -> None:
        """Record the position in the epoch, then run one iteration.

        A checkpoint saved by this iteration's hooks holds ``idx + 1``
        batches done.
        """
        self.runner.message_hub.update_info(
            EPOCH_PROGRESS_KEY,
            dict(
                epoch=self._epoch,
                batches_done=idx + 1,
                epoch_length=len(self.dataloader)))
        super().run_iter(idx, data_batch)

    def _resume_position(self) -> int:
        """Batches of the current epoch trained before the checkpoint (0
        unless this is the first epoch of a run resumed inside it)."""
        if self._resume_checked:
            return 0
        self._resume_checked = True
        length = len(self.dataloader)
        progress: Optional[dict] = self.runner.message_hub.get_info(
            EPOCH_PROGRESS_KEY)
        if progress is None or progress.get('epoch') != self._epoch:
            if self._iter != self._epoch * length:
                self.runner.logger.warning(
                    f'{type(self).__name__}: resumed at iteration '
                    f'{self._iter} of epoch {self._epoch} from a checkpoint '
                    'that does not record its position in the epoch (saved '
                    'by another train loop?): the epoch restarts from its '
                    'first batch, as MMEngine does')
            return 0
        done = int(progress['batches_done'])
        if progress.get('epoch_length') != length:
            raise ValueError(
                f'{type(self).__name__}: the checkpoint was saved after '
                f'{done} of {progress.get("epoch_length")} batches of epoch '
                f'{self._epoch}, but the epoch now has {length} batches; an '
                'epoch cannot be continued with another length. Resume with '
                'the same iters_per_epoch and batch size, or from a '
                'checkpoint saved at the end of an epoch')
        return done

    def _batches(self, start: int) -> Iterator:
        """The dataloader's batches from batch ``start`` on."""
        if start == 0:
            return iter(self.dataloader)
        length = len(self.dataloader)
        if start == length:  # saved after the epoch's last batch
            return iter(())
        sampler = find_sampler(self.dataloader, SkippableSampler)
        if sampler is not None:
            sampler.skip_batches(start)
            self.runner.logger.info(
                f'Resuming epoch {self._epoch} at batch {start} of {length} '
                f'(iteration {self._iter}): {type(sampler).__name__} skips '
                'the batches trained before the checkpoint without loading '
                'them')
            return iter(self.dataloader)
        self.runner.logger.warning(
            f'Resuming epoch {self._epoch} at batch {start} of {length}: the '
            'training sampler has no skip_batches(), so the batches trained '
            'before the checkpoint are loaded and dropped')
        batches = iter(self.dataloader)
        for _ in range(start):
            next(batches)
        return batches
