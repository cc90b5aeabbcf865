"""Check that an output file can be written before the work that makes it.

An export or a search can run for minutes before it writes its result; a
folder that cannot be made or written should stop it at the start, with
the path named, not at the end.
"""
import os
import tempfile
from pathlib import Path
from typing import Union

__all__ = ['check_writable_output']


def check_writable_output(path: Union[str, os.PathLike],
                          what: str = 'output file') -> Path:
    """Make the file's folder and prove a file can be created in it.

    A temporary file is created in the folder and removed again; ``path``
    itself is not touched.

    Args:
        path (str | PathLike): The file that will be written.
        what (str): What it is, for the message. Defaults to
            ``'output file'``.

    Returns:
        Path: ``path``.

    Raises:
        IsADirectoryError: If ``path`` is an existing folder.
        OSError: If its folder cannot be made or written (the same errno,
            so the same subclass), naming the file, the folder and why.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(
            f'the {what} {path} is a folder; expected a file path, e.g. '
            f'{path / "model.onnx"}')
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OSError(
            err.errno, f'cannot write the {what} {path}: its folder '
            f'{folder} cannot be made ({err.strerror or err})') from err
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise OSError(
            err.errno, f'cannot write the {what} {path}: its folder '
            f'{folder} is not writable ({err.strerror or err})') from err
    return path
