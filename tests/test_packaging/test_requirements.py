"""requirements/: what the package imports and what pip installs agree.

Every runtime requirement is imported by the package (a dependency nobody
imports is dead weight in every install), every extra is imported or used
somewhere, and every third-party package the package imports is a runtime
requirement or an extra (else a fresh install fails at an import). Imports
are read from the sources (``ast``; those inside functions included), not
executed.
"""
import ast
import re
import sys
from pathlib import Path
from typing import Dict, Iterable, Set

import pytest

from tiny_cluster_contrast import REPO_ROOT, load_script

#: Distribution name -> import name, where they differ.
IMPORT_NAMES = {
    'mmcv-lite': 'mmcv',
    'scikit-learn': 'sklearn',
    'opencv-python': 'cv2',
    'pillow': 'PIL',
    'pyyaml': 'yaml',
    'faiss-cpu': 'faiss',
    'model-index': 'modelindex',
}

#: Extras needed by a library call rather than an import of ours.
USED_THROUGH = {'onnx': 'torch.onnx.export (mmreid_unsup/apis/export.py)'}


@pytest.fixture(scope='module')
def setup_py():
    # Imported, not run: setup() is only called as a script.
    return load_script(REPO_ROOT / 'setup.py', 'mmreid_setup')


def import_name(requirement: str) -> str:
    """The module a requirement line provides (``scikit-learn>=1.3`` ->
    ``sklearn``)."""
    name = re.split(r'[<>=!~;\[ ]', requirement, maxsplit=1)[0].lower()
    return IMPORT_NAMES.get(name, name)


def third_party_imports(folders: Iterable[str]) -> Dict[str, Set[str]]:
    """Top-level module -> the files importing it, for absolute imports of
    the ``.py`` files under ``folders`` that are neither the standard
    library nor this package."""
    found: Dict[str, Set[str]] = {}
    for folder in folders:
        for path in sorted((REPO_ROOT / folder).rglob('*.py')):
            tree = ast.parse(path.read_text(encoding='utf-8'))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split('.')[0]
                    if (top not in sys.stdlib_module_names
                            and top != 'mmreid_unsup'):
                        found.setdefault(top, set()).add(
                            str(path.relative_to(REPO_ROOT)))
    return found


PACKAGE_IMPORTS = third_party_imports(['mmreid_unsup'])


def test_the_import_scan_sees_the_known_imports():
    assert {'torch', 'mmengine', 'cv2', 'yaml', 'faiss'} <= set(
        PACKAGE_IMPORTS)
    assert 'os' not in PACKAGE_IMPORTS and 'tqdm' not in PACKAGE_IMPORTS


def test_every_runtime_requirement_is_imported_by_the_package(setup_py):
    for requirement in setup_py.parse_requirements('runtime'):
        assert import_name(requirement) in PACKAGE_IMPORTS, (
            f'{requirement} is required but nothing in mmreid_unsup/ '
            'imports it')


def test_every_package_import_is_a_requirement(setup_py):
    listed = {
        import_name(r)
        for r in setup_py.parse_requirements('runtime') +
        setup_py.optional_requirements()['all']
    }
    missing = {
        module: sorted(files)
        for module, files in PACKAGE_IMPORTS.items() if module not in listed
    }
    assert not missing, ('imported by the package but in neither '
                         f'requirements/runtime.txt nor optional.txt: '
                         f'{missing}')


def test_every_extra_is_imported_somewhere(setup_py):
    extras = setup_py.optional_requirements()
    assert {'faiss', 'infomap', 'onnx', 'plot', 'all', 'tests'} <= set(extras)
    imported = third_party_imports(['mmreid_unsup', 'tools', 'benchmarks'])
    for requirement in extras['all']:
        module = import_name(requirement)
        assert module in USED_THROUGH or module in imported, requirement
    assert extras['tests'] == [
        'pytest>=7', 'pytest-xdist>=3', 'ruff>=0.6', 'model-index>=0.1.11'
    ]


def test_the_lock_file_pins_every_requirement(setup_py):
    """CI installs lock.txt: each runtime requirement and extra is there."""
    lock = Path(REPO_ROOT / 'requirements' / 'lock.txt').read_text()
    pinned = {
        line.split('==')[0].strip().lower()
        for line in lock.splitlines() if '==' in line
    }
    extras = setup_py.optional_requirements()
    for requirement in (setup_py.parse_requirements('runtime') +
                        extras['all'] + extras['tests']):
        name = re.split(r'[<>=!~;\[ ]', requirement, maxsplit=1)[0]
        assert name.lower() in pinned, requirement


def test_the_import_time_mmengine_check_matches_the_requirements(setup_py):
    """``mmreid_unsup/__init__.py`` refuses the versions pip would."""
    import mmreid_unsup
    mmengine = [
        r for r in setup_py.parse_requirements('runtime')
        if r.startswith('mmengine')
    ]
    assert mmengine == [
        f'mmengine>={mmreid_unsup.MMENGINE_MINIMUM_VERSION},'
        f'<{mmreid_unsup.MMENGINE_MAXIMUM_VERSION}'
    ]
