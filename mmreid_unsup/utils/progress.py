"""Progress reporting: the callback long computations report their advance
to, and MMEngine's progress bar that shows it."""
import sys
from contextlib import contextmanager
from typing import Callable, Iterator

from mmengine.utils import ProgressBar

__all__ = ['ProgressCallback', 'progress_bar']

#: ``progress(num_done, num_total)``: called by a chunked stage after each
#: chunk, with counts in any unit the stage chooses (rows, chunks, ...).
ProgressCallback = Callable[[int, int], None]


def _ignore(num_done: int, num_total: int) -> None:
    """The callback of a bar that is not shown."""


@contextmanager
def progress_bar(desc: str,
                 total: int = 1,
                 enabled: bool = True) -> Iterator[ProgressCallback]:
    """Show MMEngine's :class:`~mmengine.utils.ProgressBar` on stderr while
    the ``with`` block runs.

    ``desc`` is written on a line of its own (the bar redraws its line).
    The block reports absolute counts to the yielded callback; the bar is
    completed when the block ends without an error, and its line ended in
    any case.

    Example:
        >>> with progress_bar('extract features', len(loader)) as progress:
        ...     for i, batch in enumerate(loader, 1):
        ...         ...
        ...         progress(i, len(loader))

    Args:
        desc (str): What is being done.
        total (int): The number of steps expected; a report may change it.
            Defaults to 1 (a stage that reports nothing).
        enabled (bool): False shows nothing (quiet modes, the ranks other
            than the main process). Defaults to True.

    Yields:
        ProgressCallback: ``progress(num_done, num_total)``.
    """
    if not enabled:
        yield _ignore
        return
    stream = sys.stderr
    stream.write(desc + '\n')
    bar = ProgressBar(max(int(total), 1), file=stream)

    def report(num_done: int, num_total: int) -> None:
        bar.task_num = max(int(num_total), 1)
        step = min(int(num_done), bar.task_num) - bar.completed
        if step > 0:
            bar.update(step)

    try:
        yield report
        report(bar.task_num, bar.task_num)
    finally:
        stream.write('\n')
        stream.flush()
