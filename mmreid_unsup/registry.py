"""Registries of mmreid_unsup.

Each registry is a child of MMEngine's root registry of the same role, so
that MMEngine's ``Runner`` finds our parts when ``default_scope`` is
``'mmreid_unsup'``. ``locations`` lists the modules that must be imported
for the registry to be populated; MMEngine imports them lazily on the first
lookup, so ``import mmreid_unsup`` stays cheap. Creating the children is
the only thing this module does to MMEngine's roots (MMEngine's registry
tree works that way); nothing is registered into the roots themselves.

``RUNNERS`` holds :class:`~mmreid_unsup.engine.ReIDRunner` (the base config
selects it with ``runner_type``) and ``WEIGHT_INITIALIZERS`` our
``Pretrained`` initializer, which MMEngine finds before its own under the
``mmreid_unsup`` scope: a checkpoint named by
``init_cfg=dict(type='Pretrained', ...)`` is read safely and may be a
``zoo://`` name.

Every build through these registries reports config mistakes clearly: an
unknown ``type`` suggests the nearest registered names, a misspelt key or
a value of the wrong type names the key and the nearest parameter (see
:mod:`mmreid_unsup.utils.build_hints`). Keys of hooks, loops, optimizer
wrappers and schedulers whose constructors take ``**kwargs`` are checked
against where those go (:mod:`mmreid_unsup.utils.config_parameters`), and
a string given for a number (``max_epochs='ten'``) is refused even when the
constructor would store it. Builds of valid configs are unchanged. The
runner gives MMEngine's roots, through which it builds a config's parts,
the same checks for as long as it builds and runs
(:data:`HINTED_MMENGINE_ROOTS`).
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import \
    WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry, build_from_cfg

from mmreid_unsup.utils.build_hints import (build_with_hints,
                                            hinted_build_func)

__all__ = [
    'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS',
    'HOOKS', 'LOOPS', 'METRICS', 'EVALUATOR', 'OPTIMIZERS', 'OPTIM_WRAPPERS',
    'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'VISUALIZERS',
    'VISBACKENDS', 'RUNNERS', 'WEIGHT_INITIALIZERS', 'PSEUDO_LABELERS',
    'KNN_BACKENDS', 'HINTED_MMENGINE_ROOTS'
]

DATASETS = Registry(
    'dataset',
    parent=MMENGINE_DATASETS,
    locations=['mmreid_unsup.datasets'],
    build_func=hinted_build_func(MMENGINE_DATASETS))
DATA_SAMPLERS = Registry(
    'data sampler',
    parent=MMENGINE_DATA_SAMPLERS,
    locations=['mmreid_unsup.datasets.samplers'],
    build_func=hinted_build_func(MMENGINE_DATA_SAMPLERS))
TRANSFORMS = Registry(
    'transform',
    parent=MMENGINE_TRANSFORMS,
    locations=['mmreid_unsup.datasets.transforms'],
    build_func=hinted_build_func(MMENGINE_TRANSFORMS))
MODELS = Registry(
    'model',
    parent=MMENGINE_MODELS,
    locations=['mmreid_unsup.models'],
    build_func=hinted_build_func(MMENGINE_MODELS))
MODEL_WRAPPERS = Registry(
    'model wrapper',
    parent=MMENGINE_MODEL_WRAPPERS,
    locations=['mmreid_unsup.engine.model_wrappers'],
    build_func=hinted_build_func(MMENGINE_MODEL_WRAPPERS))
HOOKS = Registry(
    'hook',
    parent=MMENGINE_HOOKS,
    locations=['mmreid_unsup.engine.hooks', 'mmreid_unsup.visualization'],
    build_func=hinted_build_func(MMENGINE_HOOKS))
LOOPS = Registry(
    'loop',
    parent=MMENGINE_LOOPS,
    locations=['mmreid_unsup.engine'],
    build_func=hinted_build_func(MMENGINE_LOOPS))
METRICS = Registry(
    'metric',
    parent=MMENGINE_METRICS,
    locations=['mmreid_unsup.evaluation.metrics'],
    build_func=hinted_build_func(MMENGINE_METRICS))
EVALUATOR = Registry(
    'evaluator',
    parent=MMENGINE_EVALUATOR,
    locations=['mmreid_unsup.evaluation'],
    build_func=hinted_build_func(MMENGINE_EVALUATOR))
OPTIMIZERS = Registry(
    'optimizer',
    parent=MMENGINE_OPTIMIZERS,
    locations=['mmreid_unsup.engine'],
    build_func=hinted_build_func(MMENGINE_OPTIMIZERS))
OPTIM_WRAPPERS = Registry(
    'optim wrapper',
    parent=MMENGINE_OPTIM_WRAPPERS,
    locations=['mmreid_unsup.engine'],
    build_func=hinted_build_func(MMENGINE_OPTIM_WRAPPERS))
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['mmreid_unsup.engine'],
    build_func=hinted_build_func(MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS))
PARAM_SCHEDULERS = Registry(
    'parameter scheduler',
    parent=MMENGINE_PARAM_SCHEDULERS,
    locations=['mmreid_unsup.engine'],
    build_func=hinted_build_func(MMENGINE_PARAM_SCHEDULERS))
VISUALIZERS = Registry(
    'visualizer',
    parent=MMENGINE_VISUALIZERS,
    build_func=hinted_build_func(MMENGINE_VISUALIZERS))
VISBACKENDS = Registry(
    'vis_backend',
    parent=MMENGINE_VISBACKENDS,
    build_func=hinted_build_func(MMENGINE_VISBACKENDS))

RUNNERS = Registry(
    'runner',
    parent=MMENGINE_RUNNERS,
    locations=['mmreid_unsup.engine.runners'],
    build_func=hinted_build_func(MMENGINE_RUNNERS))
WEIGHT_INITIALIZERS = Registry(
    'weight initializer',
    parent=MMENGINE_WEIGHT_INITIALIZERS,
    locations=['mmreid_unsup.engine.checkpoint_io'],
    build_func=hinted_build_func(MMENGINE_WEIGHT_INITIALIZERS))

# Roles MMEngine has no root for.
PSEUDO_LABELERS = Registry(
    'pseudo labeler',
    locations=['mmreid_unsup.pseudo_labels'],
    build_func=build_with_hints(build_from_cfg))
KNN_BACKENDS = Registry(
    'knn backend',
    locations=['mmreid_unsup.ops'],
    build_func=build_with_hints(build_from_cfg))

#: MMEngine's roots through which ``Runner`` builds the parts of a config;
#: :class:`~mmreid_unsup.engine.ReIDRunner` gives them the clear config
#: errors of :mod:`~mmreid_unsup.utils.build_hints` while it builds and
#: runs (:func:`~mmreid_unsup.utils.build_hints.build_hints_on`), and
#: only then.
HINTED_MMENGINE_ROOTS = (MMENGINE_DATASETS, MMENGINE_DATA_SAMPLERS,
                         MMENGINE_TRANSFORMS, MMENGINE_MODELS,
                         MMENGINE_MODEL_WRAPPERS, MMENGINE_HOOKS,
                         MMENGINE_LOOPS, MMENGINE_METRICS, MMENGINE_EVALUATOR,
                         MMENGINE_OPTIMIZERS, MMENGINE_OPTIM_WRAPPERS,
                         MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
                         MMENGINE_PARAM_SCHEDULERS, MMENGINE_VISUALIZERS,
                         MMENGINE_VISBACKENDS, MMENGINE_WEIGHT_INITIALIZERS)
