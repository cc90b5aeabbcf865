"""Zero the model's denormal weights before training and evaluation, and
after every training iteration."""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmreid_unsup.engine.feature_extraction import unwrap_model
from mmreid_unsup.models.utils.denormals import flush_denormals_
from mmreid_unsup.registry import HOOKS


@HOOKS.register_module()
class DenormalFlushHook(Hook):
    """Set the denormal entries of the model's weights and buffers to zero.

    Pretrained re-ID models carry denormal weights (the MSMT17 OSNet-x0.25
    of torchreid: 741 of them, whole dead channels), and x86 CPUs compute
    with denormal operands many times slower than with normal ones (see
    :mod:`mmreid_unsup.models.utils.denormals`). Zeroing them changes each
    by less than 1.2e-38; on that OSNet a training step with channels-last
    batches measured 1.37x faster (``benchmarks/training_step.py``).

    When:

    - ``before_train``, once the weights are loaded (MMEngine loads
      ``load_from`` / ``resume`` before the loop starts), and
      ``before_val`` / ``before_test`` for runs that only evaluate;
    - ``after_train_iter``, on every rank: an update or a running variance
      of a dead channel can decay into the denormal range. The priority
      (``LOW``) puts the flush after ``SyncNormStatsHook`` averages the
      statistics and before ``CheckpointHook`` (``VERY_LOW``) saves, so
      every checkpoint, at an epoch's end or within one, holds flushed
      weights: a run resumed from it starts from the weights the
      uninterrupted run went on with, and the flush of ``before_train``
      finds nothing. Every rank flushes the same entries, so DDP ranks
      stay identical.

    The cost is one pass over the floating parameters and buffers per
    iteration (the CPU ones only: on GPUs the hook does nothing). The
    pseudo-label refresh's feature pass zeroes them for itself in any case
    (``extract_dataset_features(flush_denormals=True)``).

    Args:
        log (bool): Log how many entries were zeroed before training or
            evaluation, when there were any. Defaults to True.
    """

    priority = 'LOW'

    def __init__(self, log: bool = True) -> None:
        self.log = log

    def before_train(self, runner: Runner) -> None:
        """Flush the weights training starts from."""
        self.flush(runner, 'before training')

    def after_train_iter(self,
                         runner: Runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        """Flush what the iteration let decay into the denormal range."""
        flush_denormals_(unwrap_model(runner))

    def before_val(self, runner: Runner) -> None:
        """Flush a model that is only validated."""
        self.flush(runner, 'before validation')

    def before_test(self, runner: Runner) -> None:
        """Flush a model that is only tested."""
        self.flush(runner, 'before testing')

    def flush(self, runner: Runner, when: str = 'now') -> int:
        """Zero the denormal entries of the runner's model.

        Args:
            runner (Runner): The runner.
            when (str): For the log line. Defaults to ``'now'``.

        Returns:
            int: How many entries were zeroed.
        """
        count = flush_denormals_(unwrap_model(runner))
        if count and self.log:
            runner.logger.info(
                f'DenormalFlushHook: zeroed {count} denormal weight '
                f'entries {when} (they slow CPU convolutions down)')
        return count
