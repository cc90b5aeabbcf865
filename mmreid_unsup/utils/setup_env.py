"""Set up MMEngine for this package: where the tools start.

``import mmreid_unsup`` changes nothing outside the package. What MMEngine
needs to know about it is declared by the registries
(:mod:`mmreid_unsup.registry`: children of MMEngine's roots, found through
``default_scope = 'mmreid_unsup'``) and by the runner
(:class:`~mmreid_unsup.engine.ReIDRunner`, which loads and saves checkpoints
itself). :func:`register_all_modules` is for the rest: code that builds our
parts outside a runner, and MMEngine's own ``load_checkpoint`` given a
``zoo://`` path.
"""
import importlib

from mmengine.registry import init_default_scope as _init_default_scope

__all__ = ['register_all_modules', 'PACKAGE_MODULES', 'SCOPE']

#: The scope name of the package's registries.
SCOPE = 'mmreid_unsup'

#: The modules whose import registers every part of the package. Named,
#: not imported, here: ``utils`` is the bottom layer of the package
#: (``docs/architecture.md``), and these are loaded late, as the
#: registries' ``locations`` are.
PACKAGE_MODULES = (
    'mmreid_unsup.datasets',
    'mmreid_unsup.datasets.samplers',
    'mmreid_unsup.datasets.transforms',
    'mmreid_unsup.models',
    'mmreid_unsup.ops',
    'mmreid_unsup.pseudo_labels',
    'mmreid_unsup.engine',
    'mmreid_unsup.evaluation',
    'mmreid_unsup.visualization',
    'mmreid_unsup.apis',
)


def register_all_modules(init_default_scope: bool = True) -> None:
    """Register every part of the package, and the ``zoo://`` scheme.

    1. Imports :data:`PACKAGE_MODULES`, so every registry of
       :mod:`mmreid_unsup.registry` holds its parts (a lookup would import
       them lazily anyway; this makes listings complete).
    2. Registers ``zoo://`` with MMEngine's ``CheckpointLoader`` (its public
       ``register_scheme``; the prefix is this package's own), so that
       MMEngine's ``load_checkpoint(model, 'zoo://NAME')`` resolves model
       zoo names too, reading the file with
       :func:`~mmreid_unsup.utils.safe_torch_load`. The runner and
       ``init_cfg=dict(type='Pretrained')`` do not need it: they resolve
       ``zoo://`` themselves.
    3. With ``init_default_scope``, makes ``'mmreid_unsup'`` MMEngine's
       current default scope (a new scope instance if another scope is
       current), as a config's ``default_scope`` does for a runner.

    Nothing of MMEngine's or torch's is replaced: checkpoint loading of
    the other schemes, file backends and torch's allow-list stay as they
    are. Calling it again does nothing more.

    Args:
        init_default_scope (bool): Make ``'mmreid_unsup'`` the default
            scope. The tools pass False: the runner sets the config's
            ``default_scope`` itself. Defaults to True.
    """
    for name in PACKAGE_MODULES:
        importlib.import_module(name)
    importlib.import_module('mmreid_unsup.model_zoo').register_zoo_scheme()
    if init_default_scope:
        _init_default_scope(SCOPE)
