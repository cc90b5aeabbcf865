"""Fetch, verify and cache the checkpoints of the model zoo.

A checkpoint is streamed into ``<cache>/<file name>.part`` (resumed with an
HTTP ``Range`` request when the ``.part`` file already holds a beginning),
its sha256 is compared with the index, and only then is it renamed
(``os.replace``, atomic) to ``<cache>/<file name>``. A file in the cache is
therefore always complete; it is verified again before each use and fetched
again when it does not match.

Environment variables:

- ``MMREID_CACHE_DIR``: the cache directory (default
  ``~/.cache/mmreid_unsup/checkpoints``).
- ``MMREID_OFFLINE=1``: never use the network; a file that is not cached is
  an error.
- ``MMREID_ZOO_MIRROR``: a base URL serving the files by name: the weights
  URL ``https://host/path/to/NAME.pth`` becomes ``$MMREID_ZOO_MIRROR/NAME.pth``
  (the layout of the cache directory, so a cache can be served as a mirror).

Only the standard library is used for HTTP (``urllib.request``), so the
usual ``https_proxy`` / ``no_proxy`` variables apply.
"""
import contextlib
import hashlib
import http.client
import logging
import os
from pathlib import Path
from typing import Iterator, Optional, Union
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from mmengine.logging import print_log
from tqdm import tqdm

from ..version import __version__
from .errors import ChecksumError, DownloadError, OfflineError
from .index import ModelIndex, ZooModel, load_index

try:  # POSIX: serialise concurrent downloads of one file
    import fcntl
except ImportError:  # pragma: no cover (Windows)
    fcntl = None

__all__ = [
    'ENV_CACHE_DIR', 'ENV_OFFLINE', 'ENV_MIRROR', 'DEFAULT_CACHE_DIR',
    'cache_dir', 'is_offline', 'mirror_url', 'sha256_file', 'fetch',
    'cached_checkpoint', 'repository_checkpoint', 'get_checkpoint'
]

PathLike = Union[str, os.PathLike]

#: Environment variable overriding the cache directory.
ENV_CACHE_DIR = 'MMREID_CACHE_DIR'
#: Environment variable turning the network off (``1``, ``true``, ``yes``).
ENV_OFFLINE = 'MMREID_OFFLINE'
#: Environment variable: base URL of a mirror serving the files by name.
ENV_MIRROR = 'MMREID_ZOO_MIRROR'
#: The cache directory without ``MMREID_CACHE_DIR`` (``~`` expanded on use).
DEFAULT_CACHE_DIR = '~/.cache/mmreid_unsup/checkpoints'

_CHUNK = 1 << 20
_TRUE = ('1', 'true', 'yes', 'on')
_USER_AGENT = f'mmreid_unsup/{__version__} (model zoo; urllib)'


class _Interrupted(Exception):
    """A transfer stopped before the end; the ``.part`` file is kept."""


def cache_dir() -> Path:
    """The checkpoint cache directory.

    Returns:
        Path: ``$MMREID_CACHE_DIR`` if set, else
        ``~/.cache/mmreid_unsup/checkpoints`` (not created here).
    """
    return Path(os.environ.get(ENV_CACHE_DIR)
                or DEFAULT_CACHE_DIR).expanduser()


def is_offline() -> bool:
    """Whether ``MMREID_OFFLINE`` asks for the cache only.

    Returns:
        bool: True for ``1``, ``true``, ``yes`` or ``on`` (any case).
    """
    return os.environ.get(ENV_OFFLINE, '').strip().lower() in _TRUE


def mirror_url(url: str, mirror: Optional[str] = None) -> str:
    """The URL to fetch ``url`` from, given a mirror.

    The mirror replaces everything up to the file name: scheme, host and
    folders. ``https://host/a/b/model.pth`` with the mirror
    ``http://mirror.lan/zoo`` becomes ``http://mirror.lan/zoo/model.pth``.

    Args:
        url (str): The weights URL of the index.
        mirror (str, optional): The mirror's base URL. Defaults to
            ``$MMREID_ZOO_MIRROR``; without one ``url`` is returned.

    Returns:
        str: The URL to download.
    """
    if mirror is None:
        mirror = os.environ.get(ENV_MIRROR, '')
    mirror = mirror.strip()
    if not mirror:
        return url
    filename = url.split('?', 1)[0].split('#', 1)[0].rsplit('/', 1)[-1]
    return mirror.rstrip('/') + '/' + filename


def sha256_file(path: PathLike) -> str:
    """Hex sha256 of a file, read in chunks.

    Args:
        path (str | PathLike): The file.

    Returns:
        str: 64 lower-case hex digits.
    """
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(_CHUNK), b''):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def _locked(dst: Path) -> Iterator[None]:
    """Hold an exclusive lock for ``dst`` so that two processes (two jobs,
    two nodes on a shared file system) never append to the same ``.part``.
    The lock files live in ``<cache>/.locks``."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    lock_dir = dst.parent / '.locks'
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / (dst.name + '.lock'), 'a') as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _network_error(url: str, reason: object) -> DownloadError:
    """The error for a URL that cannot be reached, with the ways out."""
    mirror = os.environ.get(ENV_MIRROR)
    mirror_state = f'now {mirror!r}' if mirror else 'not set'
    return DownloadError(
        f'cannot download {url}: {reason}. Check the network connection; '
        f'behind a firewall set {ENV_MIRROR} to a mirror that serves the '
        f'model zoo files by name ({mirror_state}); or copy the file into '
        f'{cache_dir()} and set {ENV_OFFLINE}=1 to use the cache only.')


def _content_range_start(value: Optional[str]) -> Optional[int]:
    """The first byte of a ``Content-Range: bytes START-END/TOTAL`` header."""
    if not value or not value.strip().startswith('bytes '):
        return None
    try:
        return int(value.split()[1].split('-', 1)[0])
    except (IndexError, ValueError):
        return None


def _content_range_total(value: Optional[str]) -> Optional[int]:
    """The ``TOTAL`` of a ``Content-Range`` header (None when ``*``)."""
    try:
        total = value.rsplit('/', 1)[1]  # type: ignore[union-attr]
        return int(total)
    except (AttributeError, IndexError, ValueError):
        return None


def _transfer(url: str, part: Path, progress: Optional[bool],
              timeout: float) -> bool:
    """Download ``url`` into ``part``, continuing what it already holds.

    Args:
        url (str): The URL.
        part (Path): The partial file (appended to, or started).
        progress (bool, optional): Show a tqdm bar; None: only on a tty.
        timeout (float): Seconds to wait for the server.

    Returns:
        bool: Whether an existing beginning was continued.

    Raises:
        _Interrupted: The transfer stopped early (``part`` keeps the bytes).
        DownloadError: The URL cannot be reached or answers an HTTP error.
    """
    offset = part.stat().st_size if part.is_file() else 0
    headers = {'User-Agent': _USER_AGENT}
    if offset:
        headers['Range'] = f'bytes={offset}-'
    try:
        response = urlopen(Request(url, headers=headers), timeout=timeout)
    except HTTPError as err:
        if err.code == 416 and offset:
            # Nothing after ``offset``: the part is already whole (or is a
            # longer stale file); the checksum decides.
            return True
        mirror = os.environ.get(ENV_MIRROR)
        source = f' (from the mirror {ENV_MIRROR}={mirror})' if mirror else ''
        raise DownloadError(f'cannot download {url}{source}: HTTP {err.code} '
                            f'{err.reason}') from err
    except (URLError, OSError,
            http.client.HTTPException) as err:  # no route, DNS, timeout
        reason = getattr(err, 'reason', err)
        raise _network_error(url, reason) from err

    with response:
        status = getattr(response, 'status', None) or 200
        content_range = response.headers.get('Content-Range')
        if offset and status == 206:
            if _content_range_start(content_range) != offset:
                part.unlink()
                raise _Interrupted(
                    f'the server answered the range {content_range!r} to a '
                    f'request from byte {offset}; starting again')
            mode, resumed = 'ab', True
            total = _content_range_total(content_range)
        else:  # 200: the server sends the whole file
            mode, resumed, offset = 'wb', False, 0
            total = None
        length = response.headers.get('Content-Length')
        length = int(length) if length and length.isdigit() else None
        if total is None and length is not None:
            total = offset + length
        received = 0
        with open(part, mode) as f, tqdm(
                total=total,
                initial=offset,
                desc=part.name[:-len('.part')],
                unit='B',
                unit_scale=True,
                unit_divisor=1024,
                disable=None if progress is None else not progress) as bar:
            try:
                while True:
                    try:  # only reading counts as an interruption
                        chunk = response.read(_CHUNK)
                    except (http.client.HTTPException, OSError) as err:
                        raise _Interrupted(
                            f'{type(err).__name__}: {err}') from err
                    if not chunk:
                        break
                    f.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
            finally:  # what arrived is kept for the next attempt
                f.flush()
                os.fsync(f.fileno())
        if length is not None and received < length:
            raise _Interrupted(
                f'connection closed after {received} of {length} bytes')
    return resumed


def _download(url: str, part: Path, progress: Optional[bool], retries: int,
              timeout: float) -> bool:
    """Transfer ``url`` into ``part``, resuming up to ``retries`` times.

    Returns:
        bool: Whether bytes of an earlier call were continued (a checksum
        mismatch may then come from a stale ``.part``).

    Raises:
        DownloadError: See :func:`_transfer`, or more interruptions than
            ``retries`` (the ``.part`` is kept for the next call).
    """
    resumed = False
    for attempt in range(retries + 1):
        try:
            resumed |= _transfer(url, part, progress, timeout)
            return resumed
        except _Interrupted as err:
            size = part.stat().st_size if part.is_file() else 0
            if attempt == retries:
                raise DownloadError(
                    f'download of {url} interrupted {retries + 1} times '
                    f'(last: {err}); {size} bytes are kept in {part}: run '
                    'the same command again to resume') from err
            print_log(
                f'model zoo: download of {url} interrupted ({err}); '
                f'resuming from byte {size}',
                logger='current',
                level=logging.WARNING)
    return resumed  # pragma: no cover (the loop returns or raises)


def fetch(url: str,
          sha256: str,
          dst: PathLike,
          progress: Optional[bool] = None,
          retries: int = 2,
          timeout: float = 60.0) -> Path:
    """Download ``url`` to ``dst`` and verify it; resumable.

    Bytes are streamed into ``dst + '.part'``. A ``.part`` left by an
    earlier interrupted call is continued with an HTTP ``Range`` request
    (a server that ignores the range sends the whole file, which then
    replaces the part). A transfer cut short is resumed up to ``retries``
    times. The complete file must have the sha256 ``sha256``; it is then
    renamed to ``dst`` atomically (``os.replace`` after an fsync; the
    ``.part`` plays the role of ``atomic_write``'s temporary file, kept
    between calls so that a download can resume). A mismatch after
    continuing an old ``.part`` starts once more from zero (the part may
    have been stale).

    Args:
        url (str): The URL (``http``, ``https`` or ``file``).
        sha256 (str): The expected hex sha256.
        dst (str | PathLike): The final file; its folder is created.
        progress (bool, optional): Show a tqdm bar (stderr). None shows it
            only on a terminal.
        retries (int): How many times an interrupted transfer is resumed
            within this call.
        timeout (float): Seconds to wait for the server on each request.

    Returns:
        Path: ``dst``, complete and verified.

    Raises:
        ChecksumError: The file does not have the expected sha256 (it is
            removed: nothing is left in the cache).
        DownloadError: No network, an HTTP error, or more interruptions
            than ``retries`` (the ``.part`` file is kept for next time).
    """
    dst = Path(dst)
    sha256 = sha256.lower()
    part = dst.with_name(dst.name + '.part')
    dst.parent.mkdir(parents=True, exist_ok=True)
    with _locked(dst):
        if dst.is_file() and sha256_file(dst) == sha256:
            return dst  # another process fetched it while we waited
        resumed = _download(url, part, progress, retries, timeout)
        got = sha256_file(part)
        if got != sha256 and resumed:
            print_log(
                f'model zoo: {part} does not match after continuing a '
                'partial download; downloading again from the start',
                logger='current',
                level=logging.WARNING)
            part.unlink()
            _download(url, part, progress, retries, timeout)
            got = sha256_file(part)
        if got != sha256:
            part.unlink()
            raise ChecksumError(
                f'checksum mismatch for {url}: expected sha256 {sha256}, got '
                f'{got}; the file was removed. The file served is not the '
                'one the model index describes (a changed release, a wrong '
                'mirror or a corrupted transfer).')
        os.replace(part, dst)
    return dst


def cached_checkpoint(model: ZooModel) -> Optional[Path]:
    """The verified cached file of ``model``, if there is one.

    A cached file whose sha256 does not match is removed (with a warning).

    Args:
        model (ZooModel): An index entry.

    Returns:
        Path | None: The file, or None when not cached (or corrupted).
    """
    path = cache_dir() / model.filename
    if not path.is_file():
        return None
    got = sha256_file(path)
    if got == model.sha256:
        return path
    print_log(
        f'model zoo: cached {path} is corrupted (sha256 {got}, expected '
        f'{model.sha256}); removed',
        logger='current',
        level=logging.WARNING)
    path.unlink()
    return None


def repository_checkpoint(model: ZooModel) -> Path:
    """The verified file of a checkpoint released inside the repository.

    No network, cache or mirror is involved; the file is checked against
    the index's sha256 at every use, like a cached download.

    Args:
        model (ZooModel): An entry whose ``weights`` is a repository path.

    Returns:
        Path: The file in this checkout.

    Raises:
        DownloadError: The file is missing from the checkout.
        ChecksumError: The file does not match the index.
    """
    path = model.repository_file
    if path is None or not path.is_file():
        raise DownloadError(
            f'model zoo checkpoint {model.name!r} is released inside the '
            f'repository, but {path} is missing from this checkout (is it a '
            'full clone of the repository?)')
    got = sha256_file(path)
    if got != model.sha256:
        raise ChecksumError(
            f'model zoo checkpoint {model.name!r}: {path} has sha256 {got}, '
            f'the index expects {model.sha256} (the file was changed or '
            'damaged; restore it with git checkout)')
    return path


def get_checkpoint(name: Union[str, ZooModel],
                   index: Optional[ModelIndex] = None,
                   progress: Optional[bool] = None) -> Path:
    """The local file of a model zoo checkpoint, downloaded if needed.

    Args:
        name (str | ZooModel): A model name (``zoo://`` allowed) or entry.
        index (ModelIndex, optional): The index to resolve names in.
            Defaults to :func:`load_index` (``$MMREID_ZOO_INDEX`` or the
            shipped one).
        progress (bool, optional): Show a download progress bar; None
            shows it only on a terminal.

    Returns:
        Path: The verified file in :func:`cache_dir`, or in the repository
        for in-repository weights (:func:`repository_checkpoint`).

    Raises:
        UnknownModelError: ``name`` is not in the index.
        OfflineError: ``MMREID_OFFLINE`` is set and the file is not cached.
        ChecksumError: The download does not match the index.
        DownloadError: The download failed.
    """
    if isinstance(name, ZooModel):
        model = name
    else:
        model = (index if index is not None else load_index()).get(name)
    if model.in_repository:
        return repository_checkpoint(model)
    cached = cached_checkpoint(model)
    if cached is not None:
        return cached
    dst = cache_dir() / model.filename
    if is_offline():
        raise OfflineError(
            f'model zoo checkpoint {model.name!r} is not cached and '
            f'{ENV_OFFLINE} is set: expected {dst}. On a machine with '
            f'network run `python tools/model_zoo.py download {model.name}` '
            f'and copy the file there, or unset {ENV_OFFLINE} to download '
            f'{model.weights}.')
    return fetch(mirror_url(model.weights), model.sha256, dst, progress)
