"""A method's CPU-protocol recipe retargeted to a synthetic set, for the
learning tests (``tests/test_e2e/test_*_synthetic.py``).

The protocol configs (``configs/<method>/*_osnet-x0.25-msmt17-pre_*``) adapt
torchreid's MSMT17 OSNet-x0.25 without labels: the model, head, labeler and
optimizer users run. A learning test keeps all of that and swaps the data
(a synthetic set resized to 128x64, single process, no loader workers), the
schedule (a few short epochs, one validation and one checkpoint at the end)
and the randomness (the learning tests' seed, deterministic); Cluster-
Contrast and GRACL also take a labeler suited to the small set. Each gain
is measured from the model training starts from, the MSMT17 weights loaded
(``ReIDRunner.val`` before ``train`` initialises the weights); spreads and
thresholds in docs/en/benchmarks.md, "Tests".
"""
from pathlib import Path
from typing import List, Optional, Tuple

import pytest
from mmengine.config import Config

from learning_checks import learning_seed
from tiny_cluster_contrast import REPO_ROOT, with_shared_paths
from tiny_configs import LOADERS

_CONFIGS = REPO_ROOT / 'configs'

#: Each method's protocol recipe, as the learning tests train it.
PROTOCOL_CONFIGS = {
    'cluster_contrast':
    _CONFIGS / 'cluster_contrast' /
    'cluster-contrast-camera-centred_osnet-x0.25-msmt17-pre_1xb64-5e_'
    'cuhk03-dev.py',
    'gracl':
    _CONFIGS / 'gracl' / 'gracl_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py',
    # The paper's method with its patch branch, so that every GSL loss
    # trains (the tuned `gsl_osnet-...` keeps the global branch only).
    'gsl':
    _CONFIGS / 'gsl' /
    'gsl-global-and-patch_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py',
    'ppssl':
    _CONFIGS / 'ppssl' / 'ppssl_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py',
    'scl':
    _CONFIGS / 'scl' / 'scl_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py',
}

#: torchreid's MSMT17 OSNet-x0.25 that every protocol recipe starts from
#: (``make data`` links it under ``data/weights``).
PROTOCOL_WEIGHTS = Path(
    with_shared_paths(
        Config.fromfile(
            str(_CONFIGS / '_base_' / 'protocols' /
                'cpu_cuhk03-dev_osnet-x0.25-msmt17.py')).protocol_weights))

#: Marks a test that trains a protocol recipe: skipped, with the path it
#: looked at, where the weights are not (a machine without the shared
#: folder; CI has it).
needs_protocol_weights = pytest.mark.skipif(
    not PROTOCOL_WEIGHTS.is_file(),
    reason=f'torchreid\'s MSMT17 OSNet-x0.25 is not at {PROTOCOL_WEIGHTS} '
    '(set MMREID_SHARED_DIR)')

#: The synthetic demo of Cluster-Contrast, whose labeler suits a synthetic
#: set (see :func:`protocol_synthetic_cfg`'s ``labeler_from``).
CLUSTER_CONTRAST_SYNTHETIC_DEMO = (
    _CONFIGS / 'cluster_contrast' /
    'cluster-contrast_r18_1xb32-10e_synthetic-demo.py')


def refresh_labeler(cfg: Config) -> dict:
    """The labeler of a config's ``ClusterRefreshHook``.

    Args:
        cfg (Config): A training config.

    Returns:
        dict: The hook's ``labeler`` (the config's own, not a copy).

    Raises:
        KeyError: If the config has no ``ClusterRefreshHook``.
    """
    for hook in cfg.get('custom_hooks', []):
        if hook['type'] == 'ClusterRefreshHook':
            return hook['labeler']
    raise KeyError(f'{cfg.filename}: no ClusterRefreshHook in custom_hooks')


def resize_pipeline(pipeline: List[dict], height: int, width: int) -> None:
    """Make a pipeline (``MultiView`` views included) give ``height`` x
    ``width`` images, in place; random crops pad by 4 % of the height as
    the protocol's 10 of 256.

    Args:
        pipeline (list[dict]): Transform configs.
        height (int): Output height.
        width (int): Output width.

    Raises:
        ValueError: A step with a ``size`` or ``scale`` this function does
            not know how to set (it would keep the protocol's size).
    """
    for step in pipeline:
        if step['type'] == 'Resize':
            step['scale'] = (width, height)
        elif step['type'] == 'RandomCrop':
            step['size'] = (height, width)
            step['padding'] = max(1, round(height * 10 / 256))
        elif step.get('name') == 'RandomResizedCrop':
            step['size'] = (height, width)
        elif 'size' in step or 'scale' in step:
            raise ValueError(f'cannot resize the pipeline step {step}')
        for view in step.get('views', []):
            resize_pipeline(view, height, width)


def protocol_synthetic_cfg(method: str,
                           data_root: Path,
                           work_dir: Path,
                           max_epochs: int,
                           iters_per_epoch: int,
                           batch_size: int,
                           img_size: Tuple[int, int] = (128, 64),
                           labeler_from: Optional[Path] = None) -> Config:
    """A method's protocol recipe on a synthetic set and a short schedule.

    Args:
        method (str): A key of :data:`PROTOCOL_CONFIGS`.
        data_root (Path): A synthetic set (``SyntheticReID`` layout).
        work_dir (Path): Where logs and the final checkpoint go.
        max_epochs (int): Training epochs (one validation, at the end).
        iters_per_epoch (int): Iterations per epoch.
        batch_size (int): Training batch size (P x K, K as in the recipe).
        img_size (tuple[int, int]): Input height and width.
        labeler_from (Path, optional): A config whose refresh labeler
            replaces the recipe's (the clustering's neighbourhood sizes
            depend on the data); None keeps the recipe's.

    Returns:
        Config: A config ready for ``build_runner``: single process,
        deterministic, seeded with :func:`learning_checks.learning_seed`.
    """
    cfg = Config.fromfile(str(PROTOCOL_CONFIGS[method]))
    cfg = Config(with_shared_paths(cfg.to_dict()), filename=cfg.filename)
    height, width = img_size
    for key in LOADERS:
        loader = cfg[key]
        pipeline = loader.dataset.pipeline
        resize_pipeline(pipeline, height, width)
        split = 'test' if key in ('val_dataloader',
                                  'test_dataloader') else 'train'
        loader.dataset = dict(
            type='SyntheticReID',
            data_root=str(data_root),
            split=split,
            pipeline=pipeline,
            test_mode=key != 'train_dataloader')
        loader.num_workers = 0
        loader.persistent_workers = False
    cfg.train_dataloader.batch_size = batch_size
    cfg.train_dataloader.sampler.batch_size = batch_size
    cfg.train_dataloader.sampler.iters_per_epoch = iters_per_epoch
    cfg.train_cfg.max_epochs = max_epochs
    cfg.train_cfg.val_interval = max_epochs
    if labeler_from is not None:
        labeler = refresh_labeler(cfg)
        labeler.clear()
        labeler.update(refresh_labeler(Config.fromfile(str(labeler_from))))
    for hook in cfg.custom_hooks:
        if hook['type'] == 'ClusterRefreshHook':
            hook['progress'] = False
    cfg.default_hooks.checkpoint.interval = max_epochs
    cfg.randomness = dict(seed=learning_seed(), deterministic=True)
    cfg.work_dir = str(work_dir)
    return cfg
