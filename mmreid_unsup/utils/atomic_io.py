"""Write files so that a crash never leaves a half-written one behind."""
import errno
import os
import tempfile
from pathlib import Path
from typing import Callable, IO, Union

from mmengine.fileio import LocalBackend, register_backend

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
    dst = Path(dst)
    existed = dst.exists()
    step = f'creating the folder {dst.parent}'
    tmp = None
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
        step = f'creating a temporary file in {dst.parent}'
        fd, tmp = tempfile.mkstemp(
            prefix=f'.{dst.name}.', suffix='.tmp', dir=dst.parent)
        step = 'writing the data'
        with os.fdopen(fd, 'wb') as f:
            write(f)
            f.flush()
            step = 'flushing the data to disk'
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


def atomic_write_bytes(data: bytes, dst: PathLike) -> None:
    """:func:`atomic_write` of a bytes object."""
    atomic_write(dst, lambda f: f.write(data))


class AtomicLocalBackend(LocalBackend):
    """MMEngine's local file backend with atomic ``put`` and ``put_text``.

    MMEngine saves checkpoints (and the ``last_checkpoint`` pointer) with
    ``get_file_backend(path).put(bytes, path)``, which opens the target with
    ``'wb'``: a kill during the write leaves a truncated checkpoint that
    ``--resume`` then fails on. This backend writes through
    :func:`atomic_write`, so the previous checkpoint stays loadable.
    """

    def put(self, obj: bytes, filepath: PathLike) -> None:
        atomic_write_bytes(obj, filepath)

    def put_text(self,
                 obj: str,
                 filepath: PathLike,
                 encoding: str = 'utf-8') -> None:
        atomic_write_bytes(obj.encode(encoding), filepath)


def register_atomic_local_backend() -> None:
    """Make :class:`AtomicLocalBackend` MMEngine's backend for local paths."""
    register_backend('local', AtomicLocalBackend, force=True, prefixes='')
