"""Downloads: streamed, retried, verified, cached, offline, mirrored.

Everything is served by a local HTTP server on 127.0.0.1; the cache, the
index and HOME live under ``tmp_path``.
"""
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest

from mmreid_unsup.model_zoo import (ENV_MIRROR, ENV_OFFLINE, ChecksumError,
                                    DownloadError, OfflineError, cache_dir,
                                    fetch, get_checkpoint, is_offline,
                                    load_index, mirror_url, sha256_file)
from mmreid_unsup.utils import atomic_write_bytes
from zoo_test_server import (model_entry, sha256_bytes, tiny_checkpoint_bytes,
                             write_index)

NAME = 'tiny-net'
PATH = '/releases/v1/tiny-net_20261129-0123abcd.pth'
FILENAME = 'tiny-net_20261129-0123abcd.pth'


@pytest.fixture
def data() -> bytes:
    return tiny_checkpoint_bytes()


@pytest.fixture
def served(zoo_server, data, tmp_path, monkeypatch, zoo_env):
    """The server serving the checkpoint, an index naming it."""
    zoo_server.state.files[PATH] = data
    index = write_index(tmp_path / 'zoo', [
        model_entry(NAME, zoo_server.url(PATH), sha256_bytes(data))])
    monkeypatch.setenv('MMREID_ZOO_INDEX', str(index))
    return zoo_server


def cache_files(cache):
    """The files of the cache directory."""
    if not cache.exists():
        return []
    return sorted(p.name for p in cache.iterdir())


def test_download_verifies_and_caches(served, data, zoo_env):
    path = get_checkpoint(NAME, progress=True)
    assert path == zoo_env / FILENAME
    assert path.read_bytes() == data
    assert cache_files(zoo_env) == [FILENAME]  # no .part left
    assert served.state.ranges(PATH) == [None]
    # Cached: verified and used, no request.
    assert get_checkpoint('zoo://' + NAME) == path
    assert len(served.state.requests) == 1


def test_default_cache_dir_is_under_home(tmp_path, monkeypatch):
    monkeypatch.setenv('HOME', str(tmp_path))
    monkeypatch.delenv('MMREID_CACHE_DIR', raising=False)
    assert cache_dir() == tmp_path / '.cache' / 'mmreid_unsup' / 'checkpoints'
    monkeypatch.setenv('MMREID_CACHE_DIR', str(tmp_path / 'c'))
    assert cache_dir() == tmp_path / 'c'


def test_a_transfer_cut_short_leaves_nothing_behind(served, data, zoo_env):
    # The server announces the whole length, sends half and hangs up: the
    # half file fails the sha256 check (or urllib reports the cut).
    served.state.cut_next = 1
    dst = zoo_env / FILENAME
    with pytest.raises((ChecksumError, DownloadError)):
        fetch(served.url(PATH), sha256_bytes(data), dst, retries=0)
    assert cache_files(zoo_env) == []  # no partial or unverified file
    # The next call downloads the whole file again.
    assert fetch(served.url(PATH), sha256_bytes(data), dst) == dst
    assert dst.read_bytes() == data
    assert cache_files(zoo_env) == [FILENAME]


def test_failed_attempts_are_started_again_within_one_call(
        served, data, zoo_env):
    served.state.cut_next = 2
    path = get_checkpoint(NAME)
    assert path.read_bytes() == data
    assert served.state.ranges(PATH) == [None] * 3  # whole transfers
    assert cache_files(zoo_env) == [FILENAME]


def test_concurrent_downloads_leave_one_verified_file(served, data, zoo_env):
    """Processes sharing a cache need no lock: each download has files of
    its own until its verified file is renamed into place."""
    dst = zoo_env / FILENAME
    with ThreadPoolExecutor(4) as pool:
        paths = list(
            pool.map(lambda _: fetch(served.url(PATH), sha256_bytes(data),
                                     dst), range(4)))
    assert paths == [dst] * 4
    assert dst.read_bytes() == data
    assert cache_files(zoo_env) == [FILENAME]


def test_checksum_mismatch_is_refused_and_nothing_cached(
        zoo_server, data, tmp_path, monkeypatch, zoo_env):
    zoo_server.state.files[PATH] = data
    wrong = sha256_bytes(b'another file')
    index = write_index(tmp_path / 'zoo',
                        [model_entry(NAME, zoo_server.url(PATH), wrong)])
    monkeypatch.setenv('MMREID_ZOO_INDEX', str(index))
    with pytest.raises(ChecksumError) as err:
        get_checkpoint(NAME)
    message = str(err.value)
    assert wrong in message and sha256_bytes(data) in message
    assert 'removed' in message and FILENAME in message
    assert cache_files(zoo_env) == []
    # A mismatch may be a transfer cut short: started again, twice.
    assert len(zoo_server.state.requests) == 3


def test_corrupted_cache_entry_is_fetched_again(served, data, zoo_env):
    path = get_checkpoint(NAME)
    atomic_write_bytes(data[:-10] + b'corrupted!', path)
    assert get_checkpoint(NAME).read_bytes() == data
    assert served.state.ranges(PATH) == [None, None]


def test_offline_uses_the_cache_and_fails_clearly_without_it(
        served, data, zoo_env, monkeypatch):
    monkeypatch.setenv(ENV_OFFLINE, '1')
    assert is_offline()
    with pytest.raises(OfflineError) as err:
        get_checkpoint(NAME)
    message = str(err.value)
    assert 'not cached' in message and ENV_OFFLINE in message
    assert str(zoo_env / FILENAME) in message
    assert served.state.requests == []

    monkeypatch.delenv(ENV_OFFLINE)
    get_checkpoint(NAME)
    monkeypatch.setenv(ENV_OFFLINE, 'true')
    assert get_checkpoint(NAME).read_bytes() == data
    assert len(served.state.requests) == 1


def test_mirror_replaces_scheme_host_and_folders(zoo_server, data, tmp_path,
                                                 monkeypatch, zoo_env):
    # The index names a path the server does not have (404): only the
    # mirror can succeed.
    zoo_server.state.files['/mirror/zoo/' + FILENAME] = data
    index = write_index(tmp_path / 'zoo', [
        model_entry(NAME, zoo_server.url(PATH), sha256_bytes(data))])
    monkeypatch.setenv('MMREID_ZOO_INDEX', str(index))
    monkeypatch.setenv(ENV_MIRROR, zoo_server.url('/mirror/zoo/'))
    assert get_checkpoint(NAME).read_bytes() == data
    assert [p for p, _ in zoo_server.state.requests] == [
        '/mirror/zoo/' + FILENAME]


def test_mirror_url():
    url = 'https://download.example.org/mmreid/v1/cc_r50.pth'
    assert mirror_url(url, '') == url
    assert mirror_url(url, 'http://mirror.lan/zoo') == (
        'http://mirror.lan/zoo/cc_r50.pth')
    assert mirror_url(url + '?dl=1', 'file:///srv/zoo/') == (
        'file:///srv/zoo/cc_r50.pth')


def test_file_mirror(tmp_path, data, monkeypatch, zoo_env):
    atomic_write_bytes(data, tmp_path / 'srv' / FILENAME)
    index = write_index(tmp_path / 'zoo', [
        model_entry(NAME, 'http://127.0.0.1:9/never-contacted/' + FILENAME,
                    sha256_bytes(data))])
    monkeypatch.setenv('MMREID_ZOO_INDEX', str(index))
    monkeypatch.setenv(ENV_MIRROR, (tmp_path / 'srv').as_uri())
    path = get_checkpoint(NAME)
    assert sha256_file(path) == sha256_bytes(data)


def test_no_network_error_names_url_mirror_and_offline(
        tmp_path, monkeypatch, zoo_env):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    url = f'http://127.0.0.1:{port}/releases/{FILENAME}'
    index = write_index(tmp_path / 'zoo',
                        [model_entry(NAME, url, 'ab' * 32)])
    monkeypatch.setenv('MMREID_ZOO_INDEX', str(index))
    with pytest.raises(DownloadError) as err:
        get_checkpoint(NAME)
    message = str(err.value)
    assert url in message and ENV_MIRROR in message
    assert f'{ENV_OFFLINE}=1' in message
    assert cache_files(zoo_env) == []


def test_http_error_is_reported(served, zoo_env):
    with pytest.raises(DownloadError, match='HTTP 404'):
        fetch(served.url('/nothing.pth'), 'ab' * 32, zoo_env / 'nothing.pth')
    assert cache_files(zoo_env) == []
    assert served.state.ranges('/nothing.pth') == [None]  # not retried


def test_index_entry_resolution_uses_the_env_index(served):
    assert load_index().names() == [NAME]
