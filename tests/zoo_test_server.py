"""A local model zoo for tests: an HTTP server on 127.0.0.1 and an index.

The server (``http.server`` in a thread) serves byte strings by path,
records every request with its ``Range`` header (downloads never send one:
they start from the beginning), and can be told to cut the next transfers
halfway (it announces the full length, sends half and closes the
connection), so tests exercise failed transfers without any network.
"""
import hashlib
import http.server
import io
import textwrap
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import pytest
import torch
import torch.nn as nn

from mmreid_unsup.utils import atomic_write, atomic_write_bytes
from tiny_cluster_contrast import TINY_CONFIG


@dataclass
class ServerState:
    """What the handler serves and what it saw.

    Attributes:
        files (dict[str, bytes]): URL path -> content.
        requests (list[tuple[str, str | None]]): (path, Range header) of
            every GET, in order.
        cut_next (int): How many of the next transfers to cut halfway.
    """
    files: Dict[str, bytes] = field(default_factory=dict)
    requests: List[Tuple[str, Optional[str]]] = field(default_factory=list)
    cut_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ranges(self, path: str) -> List[Optional[str]]:
        """The Range headers of the requests for ``path``."""
        return [r for p, r in self.requests if p == path]


def _make_handler(state: ServerState) -> type:

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.0'  # one request per connection

        def log_message(self, *args) -> None:  # keep the test output quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path = self.path.split('?', 1)[0]
            range_header = self.headers.get('Range')
            with state.lock:
                state.requests.append((path, range_header))
                cut = state.cut_next > 0
                if cut:
                    state.cut_next -= 1
            data = state.files.get(path)
            if data is None:
                self.send_error(404, 'not found')
                return
            self.send_response(200)
            self.send_header('Content-Type', 'application/octet-stream')
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            if cut:  # announce everything, send half, hang up
                self.wfile.write(data[:len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(data)

    return Handler


class ZooServer:
    """A threaded HTTP server on 127.0.0.1 (a free port).

    Args:
        state (ServerState): What to serve.
    """

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                     _make_handler(state))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs=dict(poll_interval=0.05),
            daemon=True)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        host, port = self.httpd.server_address[:2]
        return f'http://{host}:{port}'

    def url(self, path: str) -> str:
        """The URL of a served path (``/a/b.pth``)."""
        return self.base_url + path

    def __enter__(self) -> 'ZooServer':
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def tiny_checkpoint_bytes(seed: int = 0) -> bytes:
    """An MMEngine checkpoint of a tiny ``nn.Module``, as bytes (~100 kB,
    so a transfer cut halfway spans several reads)."""
    torch.manual_seed(seed)
    module = nn.Sequential(nn.Linear(64, 128), nn.Linear(128, 64))
    buffer = io.BytesIO()
    torch.save({'state_dict': module.state_dict(), 'meta': {}}, buffer)
    return buffer.getvalue()


def model_entry(name: str,
                weights: str,
                sha256: str,
                config: str = 'configs/x.py',
                collection: str = 'Tiny') -> str:
    """One ``Models`` entry of a metafile, in the documented schema."""
    return textwrap.dedent(f'''\
      - Name: {name}
        In Collection: {collection}
        Config: {config}
        Metadata:
          Training Data: synthetic (no labels)
          Training Resources: 1x CPU
          Epochs: 2
        Results:
          - Task: Person Re-Identification
            Dataset: Synthetic
            Split: query / gallery
            Protocol: single query, standard junk rule, last epoch
            Metrics:
              mAP: 20.5
              Rank-1: 33.1
        Weights: {weights}
        SHA256: {sha256}
    ''')


def write_index(folder: Path, entries: List[str]) -> Path:
    """Write ``folder/model-index.yml`` importing ``tiny/metafile.yml`` with
    the collection ``Tiny`` and ``entries`` (from :func:`model_entry`).

    Returns:
        Path: The index file.
    """
    models = ''.join(textwrap.indent(e, '  ') for e in entries)
    metafile = 'Collections:\n  - Name: Tiny\n'
    metafile += 'Models:\n' + models if entries else 'Models: []\n'
    atomic_write_bytes(metafile.encode(), folder / 'tiny' / 'metafile.yml')
    index = folder / 'model-index.yml'
    atomic_write_bytes(b'Import:\n  - tiny/metafile.yml\n', index)
    return index


def save_checkpoint_bytes(checkpoint: dict, path: Path) -> bytes:
    """``torch.save`` a checkpoint atomically and return its bytes."""
    atomic_write(path, lambda f: torch.save(checkpoint, f))
    return path.read_bytes()


@pytest.fixture
def zoo_env(tmp_path, monkeypatch) -> Iterator[Path]:
    """Environment of a test: cache, home and index under ``tmp_path``, no
    mirror, online, no proxy for 127.0.0.1.

    Yields:
        Path: The cache directory (not created).
    """
    cache = tmp_path / 'cache'
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    monkeypatch.setenv('MMREID_CACHE_DIR', str(cache))
    monkeypatch.setenv('MMREID_ZOO_INDEX', str(tmp_path / 'no-index.yml'))
    monkeypatch.delenv('MMREID_ZOO_MIRROR', raising=False)
    monkeypatch.delenv('MMREID_OFFLINE', raising=False)
    for var in ('http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY',
                'all_proxy', 'ALL_PROXY'):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv('no_proxy', '127.0.0.1,localhost')
    monkeypatch.setenv('NO_PROXY', '127.0.0.1,localhost')
    yield cache


@pytest.fixture
def zoo_server() -> Iterator[ZooServer]:
    """A running :class:`ZooServer` with nothing to serve yet."""
    with ZooServer(ServerState()) as server:
        yield server


def tiny_reid_checkpoint(path: Path, seed: int = 1) -> bytes:
    """A checkpoint of the tiny synthetic config's model (random weights of
    ``seed``), written atomically to ``path``; returns its bytes."""
    from mmreid_unsup.apis import init_model
    torch.manual_seed(seed)
    model = init_model(str(TINY_CONFIG))
    return save_checkpoint_bytes(
        {'state_dict': model.state_dict(), 'meta': {}}, path)
