"""Registries of mmreid_unsup.

Each registry is a child of MMEngine's root registry of the same role, so
that MMEngine's ``Runner`` finds our parts when ``default_scope`` is
``'mmreid_unsup'``. ``locations`` lists the modules that must be imported
for the registry to be populated; MMEngine imports them lazily on the first
lookup, so ``import mmreid_unsup`` stays cheap.

Every build through these registries, and through the MMEngine roots they
are children of (which is how ``Runner`` builds the parts of a config),
reports config mistakes clearly: an unknown ``type`` suggests the nearest
registered names, a misspelt key or a value of the wrong type names the key
and the nearest parameter (see :mod:`mmreid_unsup.utils.build_hints`). Keys
of hooks, loops, optimizer wrappers and schedulers whose constructors take
``**kwargs`` are checked against where those go
(:mod:`mmreid_unsup.utils.config_parameters`), and a string given for a
number (``max_epochs='ten'``) is refused even when the constructor would
store it. Builds of valid configs are unchanged.
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
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import Registry

from mmreid_unsup.utils.build_hints import add_build_hints

__all__ = [
    'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS',
    'HOOKS', 'LOOPS', 'METRICS', 'EVALUATOR', 'OPTIMIZERS', 'OPTIM_WRAPPERS',
    'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'VISUALIZERS',
    'VISBACKENDS', 'PSEUDO_LABELERS', 'KNN_BACKENDS'
]

DATASETS = Registry(
    'dataset',
    parent=MMENGINE_DATASETS,
    locations=['mmreid_unsup.datasets'])
DATA_SAMPLERS = Registry(
    'data sampler',
    parent=MMENGINE_DATA_SAMPLERS,
    locations=['mmreid_unsup.datasets.samplers'])
TRANSFORMS = Registry(
    'transform',
    parent=MMENGINE_TRANSFORMS,
    locations=['mmreid_unsup.datasets.transforms'])
MODELS = Registry(
    'model', parent=MMENGINE_MODELS, locations=['mmreid_unsup.models'])
MODEL_WRAPPERS = Registry(
    'model wrapper',
    parent=MMENGINE_MODEL_WRAPPERS,
    locations=['mmreid_unsup.engine.model_wrappers'])
HOOKS = Registry(
    'hook',
    parent=MMENGINE_HOOKS,
    locations=['mmreid_unsup.engine.hooks', 'mmreid_unsup.visualization'])
LOOPS = Registry(
    'loop', parent=MMENGINE_LOOPS, locations=['mmreid_unsup.engine'])
METRICS = Registry(
    'metric',
    parent=MMENGINE_METRICS,
    locations=['mmreid_unsup.evaluation.metrics'])
EVALUATOR = Registry(
    'evaluator',
    parent=MMENGINE_EVALUATOR,
    locations=['mmreid_unsup.evaluation'])
OPTIMIZERS = Registry(
    'optimizer',
    parent=MMENGINE_OPTIMIZERS,
    locations=['mmreid_unsup.engine'])
OPTIM_WRAPPERS = Registry(
    'optim wrapper',
    parent=MMENGINE_OPTIM_WRAPPERS,
    locations=['mmreid_unsup.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['mmreid_unsup.engine'])
PARAM_SCHEDULERS = Registry(
    'parameter scheduler',
    parent=MMENGINE_PARAM_SCHEDULERS,
    locations=['mmreid_unsup.engine'])
VISUALIZERS = Registry('visualizer', parent=MMENGINE_VISUALIZERS)
VISBACKENDS = Registry('vis_backend', parent=MMENGINE_VISBACKENDS)

# Roles MMEngine has no root for.
PSEUDO_LABELERS = Registry(
    'pseudo labeler', locations=['mmreid_unsup.pseudo_labels'])
KNN_BACKENDS = Registry(
    'knn backend', locations=['mmreid_unsup.ops'])

# Clear config errors for every build: MMEngine's roots (used by ``Runner``)
# first, so children created from them inherit the wrapped build function,
# then our own registries (the two without a parent included).
add_build_hints(MMENGINE_DATASETS, MMENGINE_DATA_SAMPLERS, MMENGINE_TRANSFORMS,
                MMENGINE_MODELS, MMENGINE_MODEL_WRAPPERS, MMENGINE_HOOKS,
                MMENGINE_LOOPS, MMENGINE_METRICS, MMENGINE_EVALUATOR,
                MMENGINE_OPTIMIZERS, MMENGINE_OPTIM_WRAPPERS,
                MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS, MMENGINE_PARAM_SCHEDULERS,
                MMENGINE_VISUALIZERS, MMENGINE_VISBACKENDS)
add_build_hints(DATASETS, DATA_SAMPLERS, TRANSFORMS, MODELS, MODEL_WRAPPERS,
                HOOKS, LOOPS, METRICS, EVALUATOR, OPTIMIZERS, OPTIM_WRAPPERS,
                OPTIM_WRAPPER_CONSTRUCTORS, PARAM_SCHEDULERS, VISUALIZERS,
                VISBACKENDS, PSEUDO_LABELERS, KNN_BACKENDS)
