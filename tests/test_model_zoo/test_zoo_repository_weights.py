"""Checkpoints released inside the repository: a path as ``Weights``
(relative to the folder of ``model-index.yml``), no network, cache or
mirror, the sha256 still verified at every use."""
import hashlib

import pytest
import yaml

from mmreid_unsup.model_zoo import (ChecksumError, DownloadError,
                                    IndexFormatError, get_checkpoint,
                                    load_index)
from mmreid_unsup.utils import atomic_write_bytes
from tiny_cluster_contrast import REPO_ROOT, load_script
from zoo_test_server import model_entry, write_index

WEIGHTS = 'model_zoo/checkpoints/tiny.pth'


@pytest.fixture
def repo(tmp_path, monkeypatch, zoo_env):
    """A repository holding its index and one released file, offline,
    with a mirror set (which must not apply to repository files)."""
    root = tmp_path / 'repo'
    data = b'released weights'
    atomic_write_bytes(data, root / WEIGHTS)
    monkeypatch.setenv('MMREID_OFFLINE', '1')
    monkeypatch.setenv('MMREID_ZOO_MIRROR', 'http://127.0.0.1:9/none')
    sha = hashlib.sha256(data).hexdigest()
    index = load_index(
        write_index(root, [model_entry('tiny', WEIGHTS, sha)]))
    return root, index, zoo_env


def test_repository_file_is_verified_and_used_in_place(repo):
    root, index, cache = repo
    model = index.get('tiny')
    assert model.in_repository and model.repository_file == root / WEIGHTS
    assert get_checkpoint('tiny', index=index) == root / WEIGHTS
    assert not cache.exists()  # nothing copied, nothing downloaded


def test_changed_or_missing_repository_file_is_an_error(repo):
    root, index, _ = repo
    atomic_write_bytes(b'tampered', root / WEIGHTS)
    with pytest.raises(ChecksumError, match='git checkout'):
        get_checkpoint('tiny', index=index)
    (root / WEIGHTS).unlink()
    with pytest.raises(DownloadError, match='missing from this checkout'):
        get_checkpoint('tiny', index=index)


@pytest.mark.parametrize('weights', [
    '/abs/tiny.pth', '../outside/tiny.pth', 'model_zoo/', 'a\\b.pth', 12
])
def test_paths_outside_the_repository_are_refused(tmp_path, weights):
    entry = yaml.safe_load(model_entry('tiny', 'http://h/t.pth', 'ab' * 32))
    entry[0]['Weights'] = weights
    metafile = tmp_path / 'meta.yml'
    atomic_write_bytes(
        yaml.safe_dump({'Collections': [{'Name': 'Tiny'}],
                        'Models': entry}).encode(), metafile)
    with pytest.raises(IndexFormatError, match='repository'):
        load_index(metafile)


def test_tool_lists_and_describes_repository_files(repo, capsys):
    _, index, _ = repo
    tool = load_script(REPO_ROOT / 'tools' / 'model_zoo.py', 'model_zoo_tool')
    assert tool.list_models(index)[1].rstrip().endswith('in repository')
    lines = tool.describe(index, 'tiny')
    assert any(line.startswith('In repository:') and 'verified' in line
               for line in lines)
    assert not any(line.startswith('Download from') for line in lines)
