"""The package's layers import one way only (``docs/architecture.md``).

Every module of ``mmreid_unsup`` is parsed (not imported) and each of its
imports, relative ones resolved and those inside functions included, is
checked against what its top-level package may use:

- ``ops`` (neighbour operations) is the bottom layer: besides the registry
  and ``utils`` it uses only torch, numpy, scipy, faiss, scikit-learn and
  the standard library;
- ``pseudo_labels`` (the labelers) builds on ``ops``;
- ``models`` (with the per-batch sample selectors) and ``evaluation`` build
  on ``ops`` too, never on ``pseudo_labels``;
- ``utils`` and ``registry`` use nothing above them.
"""
import ast
import sys
from pathlib import Path
from typing import Dict, Iterator, Set, Tuple

import pytest

import mmreid_unsup

PACKAGE_ROOT = Path(mmreid_unsup.__file__).parent

#: The subpackages of mmreid_unsup each layer may import (itself always).
ALLOWED: Dict[str, Set[str]] = {
    'utils': set(),
    'registry': {'utils'},
    'ops': {'registry', 'utils'},
    'pseudo_labels': {'ops', 'registry', 'utils'},
    'models': {'ops', 'registry', 'structures', 'utils'},
    'evaluation': {'ops', 'registry', 'structures', 'utils'},
}

#: The third-party packages ``ops`` may import.
OPS_LIBRARIES = {'torch', 'numpy', 'scipy', 'faiss', 'sklearn'}


def module_name(path: Path) -> str:
    """``mmreid_unsup.a.b`` of a source file (a package's ``__init__``
    gives the package)."""
    parts = path.relative_to(PACKAGE_ROOT.parent).with_suffix('').parts
    if parts[-1] == '__init__':
        parts = parts[:-1]
    return '.'.join(parts)


def imported_modules(source: str, module: str,
                     is_package: bool) -> Iterator[Tuple[int, str]]:
    """Every module an import statement of ``source`` names.

    Args:
        source (str): Python source.
        module (str): its dotted name, for relative imports.
        is_package (bool): whether it is a package's ``__init__``.

    Yields:
        tuple[int, str]: line number and absolute module name. For
        ``from X import y`` the module is ``X`` (``y`` may be a name).
    """
    package = module if is_package else module.rpartition('.')[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')
                base = base[:len(base) - node.level + 1]
                name = '.'.join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            yield node.lineno, name


def layer_of(module: str) -> str:
    """The subpackage (or top-level module) of mmreid_unsup ``module`` is
    in; ``''`` for the package's own ``__init__``."""
    parts = module.split('.')
    return parts[1] if len(parts) > 1 else ''


def package_imports() -> Iterator[Tuple[str, int, str]]:
    """``(module, line, imported module)`` over the whole package."""
    for path in sorted(PACKAGE_ROOT.rglob('*.py')):
        module = module_name(path)
        for line, name in imported_modules(
                path.read_text(encoding='utf-8'), module,
                path.name == '__init__.py'):
            yield module, line, name


def test_the_scanner_resolves_relative_and_local_imports():
    source = ('from ..pseudo_labels import x\n'
              'from . import knn\n'
              'def f():\n'
              '    import mmreid_unsup.engine.hooks\n')
    found = [name for _, name in imported_modules(
        source, 'mmreid_unsup.ops.knn', is_package=False)]
    assert found == [
        'mmreid_unsup.pseudo_labels', 'mmreid_unsup.ops',
        'mmreid_unsup.engine.hooks'
    ]
    assert [name for _, name in imported_modules(
        'from .knn import a', 'mmreid_unsup.ops', is_package=True)
            ] == ['mmreid_unsup.ops.knn']


@pytest.mark.parametrize('layer', sorted(ALLOWED))
def test_layers_import_only_the_layers_below(layer):
    allowed = ALLOWED[layer] | {layer}
    wrong = [
        f'{module}:{line} imports {name}'
        for module, line, name in package_imports()
        if layer_of(module) == layer and name.split('.')[0] == 'mmreid_unsup'
        and layer_of(name) not in allowed
    ]
    assert not wrong, (f'{layer} may import only {sorted(allowed)} of '
                       'mmreid_unsup:\n' + '\n'.join(wrong))


def test_ops_uses_only_numeric_libraries():
    libraries = OPS_LIBRARIES | set(sys.stdlib_module_names) | {
        'mmreid_unsup'
    }
    wrong = [
        f'{module}:{line} imports {name}'
        for module, line, name in package_imports()
        if layer_of(module) == 'ops' and name.split('.')[0] not in libraries
    ]
    assert not wrong, '\n'.join(wrong)


def test_evaluation_and_models_do_not_reach_the_labelers():
    """The per-batch selectors are models' own; re-ranking is an op."""
    wrong = [
        f'{module}:{line} imports {name}'
        for module, line, name in package_imports()
        if layer_of(module) in ('evaluation', 'models')
        and name.startswith('mmreid_unsup.pseudo_labels')
    ]
    assert not wrong, '\n'.join(wrong)
