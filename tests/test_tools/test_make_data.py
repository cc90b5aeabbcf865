"""``make data``: links the shared CUHK03 crops and torchreid's weights under
``data/``, where the configs read them."""
import os
import shutil
import subprocess

import pytest

from tiny_cluster_contrast import REPO_ROOT

pytestmark = pytest.mark.skipif(
    shutil.which('make') is None, reason='make is not installed')


def make_data(cwd, *args):
    return subprocess.run(
        ['make', '-s', '-f', str(REPO_ROOT / 'Makefile'), 'data', *args],
        cwd=cwd, capture_output=True, text=True, timeout=60)


@pytest.fixture
def shared(tmp_path):
    root = tmp_path / 'shared'
    (root / 'data' / 'cuhk03' / 'splits').mkdir(parents=True)
    (root / 'weights').mkdir()
    (root / 'weights' / 'osnet_x0_25_msmt17.pth').write_bytes(b'')
    return root


def test_links_both_folders_absolutely_then_does_nothing(tmp_path, shared):
    repo = tmp_path / 'repo'
    repo.mkdir()
    # The default: the shared folder beside the repository.
    done = make_data(repo)
    assert done.returncode == 0, done.stderr
    for link, target in (('cuhk03', shared / 'data' / 'cuhk03'),
                         ('weights', shared / 'weights')):
        path = repo / 'data' / link
        assert path.is_symlink()
        assert os.readlink(path) == str(target.resolve())
    assert (repo / 'data' / 'weights' / 'osnet_x0_25_msmt17.pth').is_file()
    again = make_data(repo)
    assert again.returncode == 0, again.stderr
    assert os.readlink(repo / 'data' / 'cuhk03') == str(
        (shared / 'data' / 'cuhk03').resolve())


def test_shared_can_be_elsewhere(tmp_path, shared):
    repo = tmp_path / 'elsewhere' / 'repo'
    repo.mkdir(parents=True)
    done = make_data(repo, f'SHARED={shared}')
    assert done.returncode == 0, done.stderr
    assert (repo / 'data' / 'cuhk03' / 'splits').is_dir()


def test_a_missing_shared_folder_is_a_clear_error(tmp_path):
    repo = tmp_path / 'repo'
    repo.mkdir()
    done = make_data(repo)
    assert done.returncode != 0
    assert '../shared/data/cuhk03 not found' in done.stderr
    assert 'SHARED=' in done.stderr
    assert not (repo / 'data' / 'cuhk03').exists()
