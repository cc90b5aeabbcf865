"""The suite's own order (``tests/conftest.py``): modules with long tests
first, each module whole, the rest in collection order."""
import importlib.util
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
    marks = [pytest.Mark(name, (), {}) for name in markers]
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
