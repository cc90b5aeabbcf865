"""The suite's own order (``tests/conftest.py``): modules with long tests
first, each module whole, the rest in collection order."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest


def _conftest():
    path = Path(__file__).with_name('conftest.py')
    spec = importlib.util.spec_from_file_location('_root_conftest', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _item(nodeid, *markers):
    marks = [getattr(pytest.mark, name).mark for name in markers]
    return SimpleNamespace(nodeid=nodeid, iter_markers=lambda: iter(marks))


def test_long_modules_first_and_modules_kept_whole():
    conftest = _conftest()
    items = [
        _item('tests/a.py::t1'),
        _item('tests/b.py::t1'),
        _item('tests/b.py::t2', 'slow'),
        _item('tests/c.py::t1', 'e2e'),
        _item('tests/d.py::t1', 'parametrize'),
        _item('tests/c.py::t2'),
    ]
    conftest.pytest_collection_modifyitems(None, None, items)
    assert [i.nodeid for i in items] == [
        'tests/c.py::t1', 'tests/c.py::t2', 'tests/b.py::t1',
        'tests/b.py::t2', 'tests/a.py::t1', 'tests/d.py::t1'
    ]


def test_this_session_runs_in_that_order(request):
    ranks = [
        _conftest().module_rank([item])
        for item in request.session.items
    ]
    modules = [item.nodeid.split('::')[0] for item in request.session.items]
    module_ranks = {}
    for module, rank in zip(modules, ranks):
        module_ranks[module] = min(rank, module_ranks.get(module, rank))
    firsts = list(dict.fromkeys(modules))
    assert [module_ranks[m] for m in firsts] == sorted(
        module_ranks[m] for m in firsts)


def _inner_env():
    """The environment of a pytest run inside a test: the tests' helpers
    importable, none of the outer run's pytest options."""
    env = {k: v for k, v in os.environ.items() if k != 'PYTEST_ADDOPTS'}
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (str(Path(__file__).parent), env.get('PYTHONPATH')) if p)
    return env


def test_modules_are_ranked_by_the_tests_left_after_deselection(tmp_path):
    # A module whose e2e test `-m "not e2e"` drops must not stay first: the
    # order is computed after pytest's deselection (trylast).
    ours = str(Path(__file__).with_name('conftest.py'))
    (tmp_path / 'conftest.py').write_text(
        'import importlib.util\n'
        f'spec = importlib.util.spec_from_file_location("ours", {ours!r})\n'
        'module = importlib.util.module_from_spec(spec)\n'
        'spec.loader.exec_module(module)\n'
        'pytest_collection_modifyitems = '
        'module.pytest_collection_modifyitems\n')
    (tmp_path / 'pytest.ini').write_text(
        '[pytest]\nmarkers =\n    e2e: long\n    slow: long\n')
    (tmp_path / 'test_a.py').write_text(
        'import pytest\n\n\ndef test_plain():\n    pass\n\n\n'
        '@pytest.mark.e2e\ndef test_long():\n    pass\n')
    (tmp_path / 'test_b.py').write_text(
        'import pytest\n\n\n@pytest.mark.slow\ndef test_slow():\n    pass\n')
    listed = subprocess.run(
        [sys.executable, '-m', 'pytest', '-p', 'no:cacheprovider', '-p',
         'no:xdist', '--collect-only', '-q', '-m', 'not e2e',
         str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env=_inner_env())
    assert listed.returncode == 0, listed.stdout + listed.stderr
    order = [line.split('::')[1] for line in listed.stdout.splitlines()
             if '::' in line]
    assert order == ['test_slow', 'test_plain']
