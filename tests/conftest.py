"""Shared fixtures: a tiny synthetic dataset; the model zoo's test
environment and HTTP server (``zoo_env``, ``zoo_server``); the messages
logged through MMEngine's logger (``log_lines``). Long modules run first
(:func:`pytest_collection_modifyitems`). The garbage collector skips the
objects of earlier modules (:func:`_gc_skips_earlier_modules`) and the
session's exit (:func:`pytest_configure`)."""
import gc
import logging
import sys
from pathlib import Path
from typing import List

import pytest
from mmengine.logging import MMLogger

from mmreid_unsup.utils import freeze_gc_at_exit
from zoo_test_server import zoo_env, zoo_server  # noqa: F401


#: Markers of long tests, longest kind first (``pytest.ini``).
LONG_MARKERS = ('e2e', 'slow')


def module_rank(items: List[pytest.Item]) -> int:
    """The position of a module's longest kind of test in
    :data:`LONG_MARKERS` (``len(LONG_MARKERS)`` if it has none)."""
    ranks = [
        LONG_MARKERS.index(mark.name) for item in items
        for mark in item.iter_markers() if mark.name in LONG_MARKERS
    ]
    return min(ranks, default=len(LONG_MARKERS))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session,
                                  config: pytest.Config,
                                  items: List[pytest.Item]) -> None:
    """Run the modules with long tests first, each module kept whole.

    Runs after ``-m`` and ``-k`` have deselected tests (``trylast``), so a
    module is ranked by the tests that run: one whose ``e2e`` tests were
    deselected is not put first for them.

    Under pytest-xdist's work stealing (``tools/run_tests.py``) a worker
    that ends its share steals from the end of another's queue: with the
    trainings at the front the run ends on short tests instead of one
    worker finishing a training alone. Modules stay contiguous (so their
    module-scoped fixtures are built once per worker) and keep their order
    otherwise; the sort is stable, so every worker collects the same list.
    """
    modules: dict = {}
    for item in items:
        modules.setdefault(item.nodeid.split('::', 1)[0], []).append(item)
    ordered = sorted(modules.values(), key=module_rank)
    items[:] = [item for module in ordered for item in module]


def pytest_configure(config: pytest.Config) -> None:
    """Skip the garbage collector's walk over every object at the session
    process's exit (:func:`~mmreid_unsup.utils.freeze_gc_at_exit`): about
    2 s of each pytest process's shutdown, xdist workers included."""
    freeze_gc_at_exit()


@pytest.fixture(autouse=True, scope='module')
def _gc_skips_earlier_modules() -> None:
    """Collect the garbage of the modules before this one, then freeze what
    survives (the imported libraries, the collected items, session
    fixtures) out of the garbage collector's reach.

    MMEngine's ``BaseDataset`` calls ``gc.collect()`` after serialising its
    data list, on every dataset a runner builds: in a pytest process that
    has imported everything, each call walked about a million objects
    (0.3 s; 26 of the 146 s of ``tests/test_engine`` under cProfile), and
    more as the session went on. Now it walks what the current module
    made. The previous module's fixtures are torn down before this runs,
    and the traceback pytest keeps of a failed test is let go, so nothing
    a later module drops stays frozen but session-long state.
    """
    sys.last_type = sys.last_value = sys.last_traceback = None
    gc.collect()
    gc.freeze()


@pytest.fixture(scope='session')
def tiny_synthetic_root(tmp_path_factory) -> Path:
    """A small synthetic multi-camera set in Market-1501 layout."""
    from mmreid_unsup.datasets.synthetic import generate_synthetic_reid
    root = tmp_path_factory.mktemp('synthetic')
    generate_synthetic_reid(
        str(root),
        num_train_ids=16,
        num_test_ids=8,
        num_cams=3,
        images_per_id_per_cam=3,
        seed=0,
        img_size=(64, 32))
    return root


@pytest.fixture(scope='session')
def e2e_synthetic_root(tmp_path_factory) -> Path:
    """A larger synthetic set (40 train ids) for end-to-end learning tests."""
    from mmreid_unsup.datasets.synthetic import generate_synthetic_reid
    root = tmp_path_factory.mktemp('e2e_synthetic')
    generate_synthetic_reid(
        str(root),
        num_train_ids=40,
        num_test_ids=20,
        num_cams=3,
        images_per_id_per_cam=4,
        seed=1,
        img_size=(64, 32),
        progress=False)
    return root


@pytest.fixture
def log_lines():
    """Messages logged through MMEngine's current logger during the test."""
    lines: List[str] = []

    class Collect(logging.Handler):

        def emit(self, record):
            lines.append(f'{record.levelname} {record.getMessage()}')

    logger = MMLogger.get_current_instance()
    handler = Collect()
    logger.addHandler(handler)
    yield lines
    logger.removeHandler(handler)
