"""Write files so that a crash never leaves a half-written one behind."""
import errno
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Callable, Iterator, Union

from mmengine.fileio import LocalBackend

PathLike = Union[str, os.PathLike]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_error(err: OSError, dst: Path, step: str,
                 existed: bool) -> OSError:
    """The ``OSError`` of a failed write, naming the destination.

    Args:
        err (OSError): What the system raised.
        dst (Path): The file being written.
        step (str): What was being done, e.g. ``'writing'``.
        existed (bool): Whether ``dst`` existed before the write.

    Returns:
        OSError: Same errno (so the same subclass), a message naming
        ``dst``, the step and what became of the previous file.
    """
    reason = err.strerror or str(err)
    kept = (f'the previous {dst.name} is left as it was' if existed else
            f'no {dst.name} was written')
    hint = ''
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        hint = ('; free some space on that disk (e.g. delete old '
                'checkpoints, or keep fewer with max_keep_ckpts) and retry '
                'or --resume')
    return OSError(err.errno, f'cannot write {dst}: {reason} while '
                   f'{step}; {kept}{hint}')


@contextmanager
def atomic_file(dst: PathLike) -> Iterator[Path]:
    """A temporary path beside ``dst`` that becomes ``dst`` when the block
    ends without error.

    The block writes the temporary file by its path (creating or
    overwriting it; it exists, empty, on entry). When the block ends, the
    file is fsynced, given the permissions of a newly created file (the
    umask applied) and renamed to ``dst`` with ``os.replace``, so a reader
    (or a resumed run after a crash or SIGKILL) sees either the old file
    or the complete new one, never a partial file. If the block or a step
    fails, the temporary file is removed and ``dst`` is left as it was. A
    kill leaves only the temporary file, ``.NAME.*.tmp``, beside ``dst``.

    Args:
        dst (str | PathLike): The file to write; parent folders are created.

    Yields:
        Path: The temporary file to write.

    Raises:
        OSError: If the system refuses a step (a full disk, no permission):
            the same errno, with a message naming ``dst`` and the step.
    """
    dst = Path(dst)
    existed = dst.exists()
    step = f'creating the folder {dst.parent}'
    tmp = None
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
        step = f'creating a temporary file in {dst.parent}'
        fd, tmp = tempfile.mkstemp(
            prefix=f'.{dst.name}.', suffix='.tmp', dir=dst.parent)
        os.close(fd)
        step = 'writing the data'
        yield Path(tmp)
        step = 'flushing the data to disk'
        with open(tmp, 'rb') as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600
        step = f'renaming the temporary file to {dst.name}'
        os.replace(tmp, dst)
    except BaseException as err:
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)
        if isinstance(err, OSError):
            raise _write_error(err, dst, step, existed) from err
        raise


def atomic_write(dst: PathLike, write: Callable[[IO[bytes]], None]) -> None:
    """Write ``dst`` through a temporary file beside it, then rename it.

    The data is flushed and fsynced before ``os.replace``, so a reader (or a
    resumed run after a crash or SIGKILL) sees either the old file or the
    complete new one, never a partial file. On failure the temporary file is
    removed and ``dst`` is left as it was.

    Args:
        dst (str | PathLike): The file to write; parent folders are created.
        write (Callable): Called with the open binary temporary file.

    Raises:
        OSError: If the system refuses a step (a full disk, no permission):
            the same errno, with a message naming ``dst`` and the step.
    """
    with atomic_file(dst) as tmp:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_TRUNC), 'wb') as f:
            write(f)


def atomic_write_bytes(data: bytes, dst: PathLike) -> None:
    """:func:`atomic_write` of a bytes object."""
    atomic_write(dst, lambda f: f.write(data))


class AtomicLocalBackend(LocalBackend):
    """MMEngine's local file backend with atomic ``put`` and ``put_text``.

    MMEngine's own ``LocalBackend`` opens the target with ``'wb'``: a kill
    during the write leaves a truncated file. This one writes through
    :func:`atomic_write`. It is not registered anywhere by this package
    (:class:`~mmreid_unsup.engine.ReIDRunner` saves its checkpoints
    atomically by itself); code that wants MMEngine's own file writes
    atomic can register it under a name of its own with
    ``mmengine.fileio.register_backend`` and pass
    ``backend_args=dict(backend=NAME)``.
    """

    def put(self, obj: bytes, filepath: PathLike) -> None:
        atomic_write_bytes(obj, filepath)

    def put_text(self,
                 obj: str,
                 filepath: PathLike,
                 encoding: str = 'utf-8') -> None:
        atomic_write_bytes(obj.encode(encoding), filepath)
