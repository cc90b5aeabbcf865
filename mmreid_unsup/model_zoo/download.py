"""Fetch, verify and cache the checkpoints of the model zoo.

The transfer is torch.hub's :func:`~torch.hub.download_url_to_file`: it
streams the file into a temporary file of its own (a unique name next to
the target), shows a progress bar, and renames the file when the transfer
ends. Here its target is itself a name unique to the call; the full sha256
of that file is compared with the index, and only then is the file renamed
(``os.replace``, atomic) to ``<cache>/<file name>``. A file in the cache is
therefore always complete and verified, whatever other processes do at the
same time: two processes that download the same file each write their own
temporary files, and the second rename replaces a verified file by an
identical one. No lock is needed; under DDP, local rank 0 downloads and the
other ranks wait (:mod:`.checkpoint_loader`), so a machine fetches a file
once. A cached file is verified again before each use and fetched again
when it does not match.

Environment variables:

- ``MMREID_CACHE_DIR``: the cache directory (default
  ``~/.cache/mmreid_unsup/checkpoints``).
- ``MMREID_OFFLINE=1``: never use the network; a file that is not cached is
  an error.
- ``MMREID_ZOO_MIRROR``: a base URL serving the files by name: the weights
  URL ``https://host/path/to/NAME.pth`` becomes ``$MMREID_ZOO_MIRROR/NAME.pth``
  (the layout of the cache directory, so a cache can be served as a mirror).

HTTP goes through ``urllib.request`` (torch.hub's), so the usual
``https_proxy`` / ``no_proxy`` variables apply.
"""
import hashlib
import http.client
import logging
import os
import sys
import uuid
from pathlib import Path
from typing import Optional, Union
from urllib.error import HTTPError, URLError

from mmengine.logging import print_log
from torch.hub import download_url_to_file

from .errors import ChecksumError, DownloadError, OfflineError
from .index import ModelIndex, ZooModel, load_index

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


def _network_error(url: str, reason: object) -> DownloadError:
    """The error for a URL that cannot be reached, with the ways out."""
    mirror = os.environ.get(ENV_MIRROR)
    mirror_state = f'now {mirror!r}' if mirror else 'not set'
    return DownloadError(
        f'cannot download {url}: {reason}. Check the network connection; '
        f'behind a firewall set {ENV_MIRROR} to a mirror that serves the '
        f'model zoo files by name ({mirror_state}); or copy the file into '
        f'{cache_dir()} and set {ENV_OFFLINE}=1 to use the cache only.')


def _download_once(url: str, sha256: str, dst: Path, progress: bool) -> None:
    """One attempt: download ``url``, verify it, rename it to ``dst``.

    Raises:
        DownloadError: An HTTP error or a network failure (the cause is
            the ``urllib`` error).
        ChecksumError: The file transferred does not have ``sha256`` (it is
            removed).
    """
    # A name of this attempt's own: torch.hub renames its finished transfer
    # to it, and only a verified file is renamed further, to ``dst``.
    unverified = dst.with_name(f'{dst.name}.{uuid.uuid4().hex}.unverified')
    try:
        try:
            download_url_to_file(url, str(unverified), progress=progress)
        except HTTPError as err:
            mirror = os.environ.get(ENV_MIRROR)
            source = (f' (from the mirror {ENV_MIRROR}={mirror})'
                      if mirror else '')
            raise DownloadError(f'cannot download {url}{source}: HTTP '
                                f'{err.code} {err.reason}') from err
        except (URLError, OSError, http.client.HTTPException) as err:
            # No route, DNS, refused, reset, or a transfer cut short.
            raise _network_error(url, getattr(err, 'reason', err)) from err
        got = sha256_file(unverified)
        if got != sha256:
            raise ChecksumError(
                f'checksum mismatch for {dst.name} downloaded from {url}: '
                f'expected sha256 {sha256}, got {got}; the download was '
                'removed, nothing was cached. The file served is not the '
                'one the model index describes (a changed release, a wrong '
                'mirror) or the transfer was cut short.')
        os.replace(unverified, dst)
    finally:
        unverified.unlink(missing_ok=True)


def fetch(url: str,
          sha256: str,
          dst: PathLike,
          progress: Optional[bool] = None,
          retries: int = 2) -> Path:
    """Download ``url`` to ``dst`` if its sha256 is ``sha256``.

    The file is streamed by :func:`torch.hub.download_url_to_file` into a
    temporary file next to ``dst``; its full sha256 is checked, and only a
    matching file is renamed (atomically) to ``dst``. A failed attempt (the
    network, or a file that does not match: a transfer cut short looks like
    one) is started again from the beginning, up to ``retries`` times; an
    HTTP error is not retried.

    Args:
        url (str): The URL (``http``, ``https`` or ``file``).
        sha256 (str): The expected hex sha256.
        dst (str | PathLike): The final file; its folder is created. An
            existing file is replaced only by a verified download.
        progress (bool, optional): Show torch.hub's progress bar (stderr).
            None shows it only when stderr is a terminal.
        retries (int): How many times a failed attempt is started again.

    Returns:
        Path: ``dst``, complete and verified.

    Raises:
        ChecksumError: The file does not have the expected sha256 (nothing
            is left in the cache).
        DownloadError: No network, or an HTTP error.
    """
    dst = Path(dst)
    sha256 = sha256.lower()
    dst.parent.mkdir(parents=True, exist_ok=True)
    if progress is None:
        progress = sys.stderr.isatty()
    print_log(f'model zoo: downloading {url} to {dst}', logger='current')
    for attempt in range(retries + 1):
        try:
            _download_once(url, sha256, dst, progress)
            return dst
        except (ChecksumError, DownloadError) as err:
            # An HTTP error is the server's answer: asking again won't help.
            if isinstance(err.__cause__, HTTPError) or attempt == retries:
                raise
            print_log(
                f'model zoo: download attempt {attempt + 1} of '
                f'{retries + 1} failed ({err}); starting again',
                logger='current',
                level=logging.WARNING)
    return dst  # pragma: no cover (the loop returns or raises)


def cached_checkpoint(model: ZooModel) -> Optional[Path]:
    """The verified cached file of ``model``, if there is one.

    A cached file whose sha256 does not match is reported (a warning) and
    not used; the next download replaces it.

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
        f'{model.sha256}); it will be downloaded again',
        logger='current',
        level=logging.WARNING)
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
