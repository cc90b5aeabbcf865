"""setup.py: the ``.mim`` folder OpenMMLab's ``mim`` reads from a package
(the requirements: ``test_requirements.py``)."""
import shutil
from pathlib import Path

import pytest

from tiny_cluster_contrast import REPO_ROOT, load_script


@pytest.fixture(scope='module')
def setup_py():
    # Imported, not run: setup() is only called as a script.
    return load_script(REPO_ROOT / 'setup.py', 'mmreid_setup')


def test_the_files_mim_reads_exist(setup_py):
    assert setup_py.MIM_FILES == ('configs', 'tools', 'model-index.yml')
    for name in setup_py.MIM_FILES:
        assert (REPO_ROOT / name).exists(), name


@pytest.mark.parametrize('argv, mode', [
    (['setup.py', 'develop'], 'symlink'),
    (['setup.py', 'editable_wheel', '--dist-dir', 'x'], 'symlink'),
    (['setup.py', 'bdist_wheel'], 'copy'),
    (['setup.py', 'sdist'], 'copy'),
    (['setup.py', 'egg_info'], None),
])
def test_mode_follows_the_setup_command(setup_py, argv, mode):
    assert setup_py.mim_mode(argv) == mode


def _fake_repo(root: Path) -> Path:
    (root / 'configs' / 'gracl').mkdir(parents=True)
    (root / 'configs' / 'gracl' / 'a.py').write_text('x = 1\n')
    (root / 'tools').mkdir()
    (root / 'tools' / 'train.py').write_text('# train\n')
    (root / 'model-index.yml').write_text('Import: []\n')
    (root / 'mmreid_unsup').mkdir()
    return root


@pytest.mark.parametrize('mode', ['symlink', 'copy'])
def test_mim_folder_links_or_copies_and_is_refreshed(setup_py, tmp_path,
                                                      mode):
    repo = _fake_repo(tmp_path)
    for _ in range(2):  # a second install replaces the first one's files
        setup_py.add_mim_extension(mode, str(repo))
    mim = repo / 'mmreid_unsup' / '.mim'
    assert (mim / 'configs' / 'gracl' / 'a.py').read_text() == 'x = 1\n'
    assert (mim / 'tools' / 'train.py').is_file()
    assert (mim / 'model-index.yml').read_text() == 'Import: []\n'
    assert (mim / 'configs').is_symlink() == (mode == 'symlink')
    # Links follow the repository; copies are snapshots.
    (repo / 'model-index.yml').write_text('Import: [new]\n')
    expected = 'Import: [new]\n' if mode == 'symlink' else 'Import: []\n'
    assert (mim / 'model-index.yml').read_text() == expected


def test_nothing_happens_without_a_build_command(setup_py, tmp_path):
    repo = _fake_repo(tmp_path)
    setup_py.add_mim_extension(None, str(repo))
    assert not (repo / 'mmreid_unsup' / '.mim').exists()


def test_a_build_from_an_sdist_keeps_its_mim_folder(setup_py, tmp_path):
    """An unpacked sdist has mmreid_unsup/.mim but no top-level configs or
    tools: building its wheel keeps the .mim files."""
    repo = _fake_repo(tmp_path / 'src')
    setup_py.add_mim_extension('copy', str(repo))
    sdist = tmp_path / 'sdist'
    (sdist / 'mmreid_unsup').mkdir(parents=True)
    shutil.copytree(repo / 'mmreid_unsup' / '.mim',
                    sdist / 'mmreid_unsup' / '.mim')
    (sdist / 'model-index.yml').write_text('Import: []\n')
    setup_py.add_mim_extension('copy', str(sdist))
    mim = sdist / 'mmreid_unsup' / '.mim'
    assert (mim / 'configs' / 'gracl' / 'a.py').read_text() == 'x = 1\n'
    assert (mim / 'tools' / 'train.py').is_file()
