"""One short line per epoch on the terminal: loss, clusters, ARI, mAP."""
import sys
import time
from typing import IO, Dict, Optional, Sequence

from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from mmreid_unsup.registry import HOOKS

__all__ = ['EpochSummaryHook']

#: (message hub key, label, format) of the training fields of a line.
TRAIN_FIELDS = (
    ('train/loss', 'loss', '{:.3f}'),
    ('train/pseudo_num_clusters', 'clusters', '{:.0f}'),
    ('train/pseudo_ari', 'ARI', '{:.3f}'),
)


@HOOKS.register_module()
class EpochSummaryHook(Hook):
    """Print one short line per epoch, for a terminal a person reads.

    MMEngine's logger writes a long record every ``interval`` iterations
    with every scalar of the message hub (twenty ``pseudo_*`` statistics
    after a refresh). This hook prints, on the main process, one line per
    epoch instead::

        epoch  3/15  loss 2.413  clusters 87  ARI 0.421  mAP 38.20  12.4 s

    The loss is the mean over the epoch's iterations; clusters and ARI are
    those of the epoch's pseudo labels (``ClusterRefreshHook``; a field the
    message hub does not hold is left out); mAP is shown when a validation
    ran after the epoch; the time runs from the start of the epoch's
    refresh to the end of its validation. The full log is unchanged:
    silence the console handler of the runner's logger to see only these
    lines, as ``tools/demo.py`` does.

    Args:
        stream (IO, optional): Where to print. Defaults to ``sys.stdout``
            at the time of printing.
        metric (str): The validation metric shown. Defaults to
            ``'reid/mAP'``.
    """

    # Before ClusterRefreshHook, so that an epoch's time includes its refresh.
    priority = 'HIGH'

    def __init__(self,
                 stream: Optional[IO[str]] = None,
                 metric: str = 'reid/mAP') -> None:
        self.stream = stream
        self.metric = metric
        self._start = 0.0
        self._loss_count = 0
        self._pending: Optional[str] = None

    def before_train_epoch(self, runner) -> None:
        """Print the previous epoch's line if no validation claimed it."""
        self._flush()
        self._start = time.perf_counter()
        buffer = runner.message_hub.log_scalars.get('train/loss')
        self._loss_count = len(buffer.data[0]) if buffer is not None else 0

    def after_train_epoch(self, runner) -> None:
        """Compose the epoch's line; it is printed after its validation."""
        fields = [f'epoch {runner.epoch + 1:>2}/{runner.max_epochs}']
        for key, label, fmt in TRAIN_FIELDS:
            value = self._epoch_value(runner, key)
            if value is not None:
                fields.append(f'{label} {fmt.format(value)}')
        fields.append(f'{time.perf_counter() - self._start:.1f} s')
        self._pending = '  '.join(fields)

    def after_val_epoch(self,
                        runner,
                        metrics: Optional[Dict[str, float]] = None) -> None:
        """Add the validation metric to the pending line and print it."""
        if self._pending is None or not metrics or self.metric not in metrics:
            return
        name = self.metric.split('/')[-1]
        head, seconds = self._pending.rsplit('  ', 1)
        self._pending = (f'{head}  {name} {metrics[self.metric]:.2f}  '
                         f'{seconds}')
        self._flush()

    def after_train(self, runner) -> None:
        """Print the last line if no validation followed the last epoch."""
        self._flush()

    def _epoch_value(self, runner, key: str) -> Optional[float]:
        """The epoch's mean of ``train/loss``, or the latest value of a
        per-epoch statistic; None if the message hub does not hold it."""
        buffer = runner.message_hub.log_scalars.get(key)
        if buffer is None:
            return None
        values: Sequence[float] = buffer.data[0]
        if key == 'train/loss':
            values = values[self._loss_count:]
            return float(sum(values) / len(values)) if len(values) else None
        return float(values[-1]) if len(values) else None

    def _flush(self) -> None:
        if self._pending is not None and is_main_process():
            stream = self.stream or sys.stdout
            print(self._pending, file=stream, flush=True)
        self._pending = None
