"""A clear error for a directory given where a checkpoint file is expected.

``--resume work_dirs/exp`` or ``load_from='work_dirs/exp'`` name the run's
folder instead of one of its checkpoints; MMEngine then reports the folder
as "can not be found". :func:`check_checkpoint_file` says what it is and
which files were probably meant.
"""
import os
import re
from typing import List

__all__ = [
    'CheckpointIsADirectoryError', 'check_checkpoint_file',
    'directory_checkpoint_error'
]

#: How many checkpoint files of the directory the message lists.
MAX_LISTED = 5


class CheckpointIsADirectoryError(IsADirectoryError, FileNotFoundError):
    """A directory was given where a checkpoint file is expected.

    Also a :class:`FileNotFoundError` (no checkpoint file is there), so code
    that reports a missing checkpoint reports this one too.
    """


def _natural_key(name: str) -> list:
    """Sort ``epoch_10.pth`` after ``epoch_9.pth``."""
    return [
        int(part) if part.isdigit() else part
        for part in re.split(r'(\d+)', name)
    ]


def _checkpoint_files(directory: str) -> List[str]:
    """The ``.pth`` files directly inside ``directory``, in natural order."""
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return sorted((name for name in names if name.endswith('.pth')
                   and os.path.isfile(os.path.join(directory, name))),
                  key=_natural_key)


def _last_checkpoint(directory: str) -> str:
    """The file MMEngine's ``last_checkpoint`` in ``directory`` names, or
    ``''``."""
    path = os.path.join(directory, 'last_checkpoint')
    try:
        with open(path, encoding='utf-8') as f:
            return f.read().strip()
    except (OSError, UnicodeDecodeError):
        return ''


def directory_checkpoint_error(path: str) -> CheckpointIsADirectoryError:
    """The error for the directory ``path`` given as a checkpoint.

    Args:
        path (str): A directory.

    Returns:
        CheckpointIsADirectoryError: "``path`` is a directory, expected a
        checkpoint file; did you mean ``<file named by
        path/last_checkpoint>`` or one of: epoch_1.pth, ...", or saying
        the directory holds no ``.pth`` file.
    """
    files = _checkpoint_files(path)
    last = _last_checkpoint(path)
    hints = []
    if last:
        hints.append(f'{last} (named by '
                     f'{os.path.join(path, "last_checkpoint")})')
    if files:
        listed = files[-MAX_LISTED:]
        more = len(files) - len(listed)
        hints.append('one of: ' + ', '.join(listed) +
                     (f' (and {more} older)' if more else '') + f' in {path}')
    if hints:
        advice = 'did you mean ' + ' or '.join(hints) + '?'
    else:
        advice = 'it holds no .pth file and no last_checkpoint.'
    return CheckpointIsADirectoryError(
        f'{path} is a directory, expected a checkpoint file; {advice} '
        '(To resume a run from its work dir, tools/train.py takes --resume '
        'without a path.)')


def check_checkpoint_file(path: str) -> str:
    """``path`` with ``~`` expanded, checked to be an existing file.

    Args:
        path (str): A local checkpoint path.

    Returns:
        str: The expanded path.

    Raises:
        CheckpointIsADirectoryError: ``path`` is a directory (the message
            suggests the files it holds).
        FileNotFoundError: Nothing is at ``path``.
    """
    path = os.path.expanduser(path)
    if os.path.isdir(path):
        raise directory_checkpoint_error(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'{path} can not be found.')
    return path
