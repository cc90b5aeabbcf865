"""Keep the random generators' states in checkpoints and restore them."""
from typing import Optional

from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmreid_unsup.registry import HOOKS
from mmreid_unsup.utils.random_state import (get_random_states,
                                             set_random_states)
from ..runners.reid_runner import is_resuming
from ..runners.resumable_train_loop import EPOCH_PROGRESS_KEY

#: Key of the generator states in a checkpoint's ``meta``.
META_KEY = 'random_states'


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Save the random generators in checkpoints; restore them on resume at
    the point where the checkpoint was taken.

    MMEngine seeds the generators once when the runner is built and never
    saves them, so a resumed run draws from the start of the streams
    again. This hook writes the states of Python's ``random``, NumPy's
    global generator and torch's CPU (and CUDA) generators into
    ``meta['random_states']``. MMEngine saves checkpoints on rank 0 only,
    so these are rank 0's states, and on ``--resume`` every rank continues
    them. That is exact when the ranks' streams are equal, as they are with
    MMEngine's default ``randomness=dict(diff_rank_seed=False)`` and this
    toolbox's parts (augmentation is seeded per sample, see
    :class:`~mmreid_unsup.datasets.samplers.seeded_index.SeededIndex`; the
    models draw alike on every rank); with ``diff_rank_seed=True`` a
    warning says that the other ranks do not get their own streams back.
    The states are restored:

    - at the first ``before_train_epoch`` when the checkpoint was saved at
      the end of an epoch (or after its last batch);
    - at the first ``before_train_iter`` when it was saved inside an epoch
      (the position recorded by
      :class:`~mmreid_unsup.engine.runners.ResumableEpochBasedTrainLoop`).

    Validation does not draw from the training streams: the states are
    saved before and restored after every validation, so a run that
    validates after the checkpoint and one resumed from it continue the
    same streams. ``load_from`` (not resume) restores nothing.
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._pending: Optional[dict] = None
        self._before_val: Optional[dict] = None

    def before_save_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        """Put the generator states into the checkpoint's meta."""
        checkpoint.setdefault('meta', {})[META_KEY] = get_random_states()

    def after_load_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        """Keep the states of a resumed checkpoint for later."""
        if not is_resuming(runner):
            return
        states = checkpoint.get('meta', {}).get(META_KEY)
        if not states:
            runner.logger.warning(
                f'{type(self).__name__}: the checkpoint holds no random '
                'states (saved without this hook); the random generators '
                'continue from the seed, not from the checkpoint')
            return
        cfg = getattr(runner, 'cfg', None) or {}
        randomness = cfg.get('randomness') or {}
        if get_world_size() > 1 and randomness.get('diff_rank_seed'):
            runner.logger.warning(
                f'{type(self).__name__}: diff_rank_seed=True, but the '
                'checkpoint holds the random states of rank 0 only: every '
                "rank continues rank 0's streams, so the resumed run is not "
                'an exact continuation')
        self._pending = states

    def before_train_epoch(self, runner: Runner) -> None:
        """Restore the states of a checkpoint saved at an epoch's end."""
        if self._pending is not None and not self._resumes_inside_epoch(
                runner):
            self._restore()

    def before_train_iter(self,
                          runner: Runner,
                          batch_idx: int,
                          data_batch=None) -> None:
        """Restore the states of a checkpoint saved inside an epoch."""
        if self._pending is not None:
            self._restore()

    def before_val(self, runner: Runner) -> None:
        """Set the training streams aside during validation."""
        self._before_val = get_random_states()

    def after_val(self, runner: Runner) -> None:
        """Give the training streams back after validation."""
        if self._before_val is not None:
            set_random_states(self._before_val)
            self._before_val = None

    @staticmethod
    def _resumes_inside_epoch(runner: Runner) -> bool:
        progress = runner.message_hub.get_info(EPOCH_PROGRESS_KEY)
        return (progress is not None and progress.get('epoch') == runner.epoch
                and 0 < progress['batches_done'] < progress['epoch_length'])

    def _restore(self) -> None:
        set_random_states(self._pending)
        self._pending = None
