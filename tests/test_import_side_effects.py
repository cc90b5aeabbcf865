"""``import mmreid_unsup`` changes no global state of torch or MMEngine.

In a fresh interpreter, MMEngine's root registries (their modules, build
functions and parents), ``CheckpointLoader``'s schemes, the file backends
(by name and by prefix), torch's allow-list of safe globals, ``torch.load``
itself and MMEngine's default scope are recorded (after importing what
registers itself on import in third-party code: mmcv's transforms, which
our transforms subclass, and torch._dynamo), then every module of the
package is imported, and they are compared. The one change allowed is the
one the registry mechanism makes by design: each root registry gains this
package's child registry (scope ``mmreid_unsup``), so that a config with
``default_scope = 'mmreid_unsup'`` finds our parts.

What does need registering happens where it is used:
:func:`~mmreid_unsup.utils.register_all_modules` (called by the tools) adds
the ``zoo://`` scheme under the package's own prefix and sets the default
scope, and nothing else.
"""
import subprocess
import sys

import pytest

from tiny_cluster_contrast import REPO_ROOT

#: Run in a fresh interpreter: prints one line per difference, then DONE.
SCRIPT = r'''
import importlib
import pkgutil
import sys

import torch
import mmengine.registry as mmengine_registry
# Third-party side effects are not ours: mmcv registers its transforms
# into MMEngine's TRANSFORMS root when imported, and torch allow-lists
# classes of its own when torch._dynamo is loaded (torchvision and others
# load it).
import mmcv.transforms  # noqa: F401
import torch._dynamo  # noqa: F401
from mmengine.fileio.backends import registry_utils
from mmengine.registry import DefaultScope, Registry
from mmengine.runner.checkpoint import CheckpointLoader

ROOTS = {
    name: obj for name, obj in vars(mmengine_registry).items()
    if isinstance(obj, Registry)
}
assert len(ROOTS) > 20, sorted(ROOTS)


def snapshot():
    """Everything compared, as plain containers of the objects themselves
    (compared by identity, so a wrapped function counts as a change)."""
    return dict(
        registries={
            name: dict(
                name=reg.name,
                scope=reg.scope,
                parent=id(reg.parent),
                build_func=id(reg.build_func),
                modules={k: id(v) for k, v in reg.module_dict.items()},
                children=dict.fromkeys(reg.children, 0),
            )
            for name, reg in ROOTS.items()
        },
        checkpoint_schemes={
            prefix: id(loader)
            for prefix, loader in CheckpointLoader._schemes.items()
        },
        file_backends={k: id(v) for k, v in registry_utils.backends.items()},
        prefix_to_backends={
            k: id(v) for k, v in registry_utils.prefix_to_backends.items()
        },
        safe_globals=[id(g) if not isinstance(g, tuple) else
                      (id(g[0]), g[1])
                      for g in torch.serialization.get_safe_globals()],
        torch_load=id(torch.load),
        default_scope=(DefaultScope.get_current_instance().scope_name
                       if DefaultScope.get_current_instance() else None),
    )


def differences(before, after, path=''):
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after), key=str):
            where = f'{path}.{key}' if path else str(key)
            if key not in after:
                yield f'removed {where}'
            elif key not in before:
                yield f'added {where}'
            else:
                yield from differences(before[key], after[key], where)
    elif before != after:
        yield f'changed {path}'


def import_everything(names):
    import mmreid_unsup
    for module in pkgutil.walk_packages(mmreid_unsup.__path__,
                                        'mmreid_unsup.'):
        if module.name.rsplit('.', 1)[-1] != '__main__':
            importlib.import_module(module.name)
    for name in names:
        importlib.import_module(name)


before = snapshot()
import_everything(sys.argv[1:])
after = snapshot()
for line in differences(before, after):
    print(line)
print('DONE')
'''

#: The only differences importing may make: our child of each root.
CHILD_ADDED = 'added registries.{}.children.mmreid_unsup'


def _run_script(script: str, *args: str) -> list:
    """The lines a script prints before DONE, in a fresh interpreter."""
    result = subprocess.run([sys.executable, '-c', script, *args],
                            cwd=REPO_ROOT,
                            capture_output=True,
                            text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert lines and lines[-1] == 'DONE', result.stdout[-3000:]
    return lines[:-1]


@pytest.mark.slow
def test_importing_the_package_changes_no_global_state():
    changes = _run_script(SCRIPT, 'mmreid_unsup', 'mmreid_unsup.models',
                          'mmreid_unsup.engine', 'mmreid_unsup.datasets',
                          'mmreid_unsup.evaluation', 'mmreid_unsup.apis',
                          'mmreid_unsup.model_zoo', 'mmreid_unsup.registry')
    unexpected = [
        line for line in changes if not (
            line.startswith('added registries.')
            and line.endswith('.children.mmreid_unsup'))
    ]
    assert not unexpected, '\n'.join(unexpected)
    # The package's child registries exist (the registry mechanism works).
    assert CHILD_ADDED.format('MODELS') in changes
    assert CHILD_ADDED.format('RUNNERS') in changes
    assert CHILD_ADDED.format('WEIGHT_INITIALIZERS') in changes


#: register_all_modules without, then with the default scope: the
#: differences each call makes, after a line naming the step.
REGISTER_ALL = SCRIPT.replace(
    "import_everything(sys.argv[1:])\nafter = snapshot()\n"
    "for line in differences(before, after):\n    print(line)\n",
    "from mmreid_unsup.utils import register_all_modules\n"
    "for scope in (False, True):\n"
    "    print(f'STEP init_default_scope={scope}')\n"
    "    register_all_modules(init_default_scope=scope)\n"
    "    after = snapshot()\n"
    "    for line in differences(before, after):\n"
    "        print(line)\n"
    "    before = after\n")


@pytest.mark.slow
def test_register_all_modules_adds_only_the_package_s_own_names():
    assert REGISTER_ALL != SCRIPT
    lines = [
        line for line in _run_script(REGISTER_ALL)
        if not (line.startswith('added registries.')
                and line.endswith('.children.mmreid_unsup'))
    ]
    assert lines == [
        'STEP init_default_scope=False',
        'added checkpoint_schemes.zoo://',
        'STEP init_default_scope=True',
        'changed default_scope',
    ]


#: Imports every module of the package, then prints the heavy libraries
#: already loaded.
LOADED_LIBRARIES = SCRIPT[:SCRIPT.index('before = snapshot()')] + r'''
import_everything(sys.argv[1:])
for name in ('sklearn', 'scipy.stats'):
    if name in sys.modules:
        print(f'loaded {name}')
print('DONE')
'''


@pytest.mark.slow
def test_importing_the_package_leaves_scikit_learn_for_later():
    # scikit-learn and the scipy.stats it loads took 1.7 s of every tool's
    # start (2-core AMD EPYC); they are imported when a labeler clusters or
    # labels are scored, so tools/test.py and tools/search.py never load
    # them.
    assert _run_script(LOADED_LIBRARIES, 'mmreid_unsup.engine',
                       'mmreid_unsup.apis') == []
