"""Evaluate a checkpoint: ``python tools/test.py CONFIG CHECKPOINT``.

Options beyond MMEngine's usual ones:

- ``--test-sets market1501 dukemtmcreid ...``: evaluate on several test
  sets in one run (cross-dataset evaluation) and print one table. Each name
  is a file of ``configs/_base_/datasets/`` (or a path to any config); its
  ``test_dataloader.dataset`` is read, with the test pipeline of CONFIG.
- ``--rerank``: k-reciprocal re-ranking (k1 20, k2 6, lambda 0.3).
- ``--tta``: flip test-time augmentation (also ``test_tta = True`` in a
  config).
- ``--show-dir DIR``: ranked-list pictures of some queries.

CHECKPOINT is a file or ``zoo://NAME`` (a model zoo name, resolved, fetched
and verified as for ``load_from='zoo://NAME'``; an unknown name is refused
with the close names). A checkpoint whose weights do not fit the model of
CONFIG (missing, unexpected or differently shaped tensors) stops the run
before anything is evaluated, with the counts and a few keys of each kind;
``--allow-partial-load`` loads only what fits, with a warning (the config
key ``load_from_strict = False``).
"""
import argparse
import copy
import json
import os
import os.path as osp
import sys
from typing import Dict, List, Optional

from mmengine.config import Config, ConfigDict, DictAction
from mmengine.runner import Runner

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from train import close_process_group, init_cpu_process_group  # noqa: E402

from mmreid_unsup.engine import build_runner  # noqa: E402
from mmreid_unsup.engine.hooks import CheckpointFitHook  # noqa: E402
from mmreid_unsup.engine.hooks.checkpoint_fit_hook import \
    STRICT_KEY  # noqa: E402
from mmreid_unsup.model_zoo import ZOO_PREFIX, load_index  # noqa: E402
from mmreid_unsup.utils import (freeze_gc_at_exit,  # noqa: E402
                                 register_all_modules)
from mmreid_unsup.utils.checkpoint_path import \
    directory_checkpoint_error  # noqa: E402
from mmreid_unsup.visualization import \
    RankedListVisualizationHook  # noqa: E402

DATASET_CONFIG_DIR = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), 'configs', '_base_',
    'datasets')
TABLE_COLUMNS = ('mAP', 'rank1', 'rank5', 'rank10', 'mINP')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Evaluate a re-ID model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument(
        'checkpoint', help='checkpoint file, or zoo://NAME (model zoo)')
    parser.add_argument('--work-dir', help='the dir to save logs')
    parser.add_argument('--out', help='dump the metrics to this JSON file')
    parser.add_argument(
        '--test-sets',
        nargs='+',
        metavar='NAME',
        help='evaluate on these test sets: names of configs/_base_/datasets/ '
        'files (e.g. market1501 dukemtmcreid) or config paths')
    parser.add_argument(
        '--rerank',
        action='store_true',
        help='k-reciprocal re-ranking of the test distances')
    parser.add_argument(
        '--tta', action='store_true', help='flip test-time augmentation')
    parser.add_argument(
        '--show-dir', help='write ranked-list pictures to this directory')
    parser.add_argument(
        '--show-topk', type=int, default=10, help='results per picture')
    parser.add_argument(
        '--show-num',
        type=int,
        default=20,
        help='pictures per test set (queries spread evenly)')
    parser.add_argument(
        '--allow-partial-load',
        action='store_true',
        help='load only the tensors of the checkpoint that fit the model, '
        'with a warning listing the others (by default a checkpoint that '
        'does not fit stops the run); the config key load_from_strict=False')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def check_checkpoint_arg(checkpoint: str) -> None:
    """Refuse a CHECKPOINT argument that names nothing loadable, early.

    Args:
        checkpoint (str): A file path or ``zoo://NAME``.

    Raises:
        UnknownModelError: ``zoo://NAME`` with a NAME the model zoo index
            does not hold (the message lists the close names).
        CheckpointIsADirectoryError: A directory (the message lists the
            checkpoints in it).
        FileNotFoundError: No such file.
    """
    if checkpoint.startswith(ZOO_PREFIX):
        load_index().get(checkpoint)  # the download happens on loading
    elif osp.isdir(checkpoint):
        raise directory_checkpoint_error(checkpoint)
    elif not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')


def ensure_checkpoint_fit_hook(runner: Runner) -> None:
    """Register :class:`CheckpointFitHook` unless the config has one.

    ``configs/_base_/default_runtime.py`` lists it; a config that does not
    inherit it still gets the check of the checkpoint against the model.

    Args:
        runner (Runner): The runner, before it loads the checkpoint.
    """
    if not any(isinstance(hook, CheckpointFitHook) for hook in runner.hooks):
        runner.register_hook(CheckpointFitHook())


def resolve_dataset_config(name: str) -> str:
    """The config file of a ``--test-sets`` entry.

    Args:
        name (str): a config path, or a file name of
            ``configs/_base_/datasets/`` with or without ``.py``.

    Returns:
        str: an existing config file.

    Raises:
        FileNotFoundError: listing the available names.
    """
    if osp.isfile(name):
        return name
    stem = name[:-3] if name.endswith('.py') else name
    path = osp.join(DATASET_CONFIG_DIR, stem + '.py')
    if osp.isfile(path):
        return path
    available = sorted(
        n[:-3] for n in os.listdir(DATASET_CONFIG_DIR) if n.endswith('.py'))
    raise FileNotFoundError(
        f'--test-sets: {name!r} is neither a config file nor one of '
        f'{DATASET_CONFIG_DIR}: {", ".join(available)}')


def _metric_configs(evaluator) -> List[dict]:
    """The metric configs inside a ``test_evaluator`` config."""
    if isinstance(evaluator, (list, tuple)):
        return [m for e in evaluator for m in _metric_configs(e)]
    if isinstance(evaluator, dict) and 'metrics' in evaluator:
        return _metric_configs(evaluator['metrics'])
    return [evaluator] if isinstance(evaluator, dict) else []


def use_test_sets(cfg: Config, names: List[str]) -> None:
    """Evaluate on several test sets: a ``ConcatReIDDataset`` of them and a
    ``MultiDatasetsEvaluator`` around the config's metrics.

    Args:
        cfg (Config): the config to change in place.
        names (list[str]): ``--test-sets`` entries.
    """
    pipeline = cfg.test_dataloader.dataset.get('pipeline')
    if pipeline is None:
        raise KeyError(f'{cfg.filename}: test_dataloader.dataset has no '
                       'pipeline to apply to the --test-sets')
    datasets, prefixes = [], []
    for name in names:
        path = resolve_dataset_config(name)
        try:
            dataset = copy.deepcopy(
                Config.fromfile(path).test_dataloader.dataset)
        except AttributeError:
            raise KeyError(f'--test-sets: {path} has no '
                           'test_dataloader.dataset') from None
        dataset.update(split='test', pipeline=copy.deepcopy(pipeline))
        datasets.append(dataset)
        prefixes.append(osp.splitext(osp.basename(path))[0])
    cfg.test_dataloader.dataset = ConfigDict(
        type='ConcatReIDDataset', datasets=datasets, names=prefixes)
    evaluator = cfg.test_evaluator
    if isinstance(evaluator, dict) and evaluator.get(
            'type') == 'MultiDatasetsEvaluator':
        evaluator = evaluator['metrics']
    cfg.test_evaluator = ConfigDict(
        type='MultiDatasetsEvaluator', metrics=evaluator)


def use_rerank(cfg: Config) -> None:
    """Switch on re-ranking in every ``ReIDMetric`` of the test evaluator."""
    metrics = [
        m for m in _metric_configs(cfg.test_evaluator)
        if m.get('type') == 'ReIDMetric'
    ]
    if not metrics:
        raise KeyError(f'--rerank: no ReIDMetric in test_evaluator of '
                       f'{cfg.filename}')
    for metric in metrics:
        if not metric.get('rerank'):
            metric['rerank'] = True


def rerank_setting(cfg: Config) -> Optional[dict]:
    """The re-ranking arguments of the first ``ReIDMetric``, or None."""
    for metric in _metric_configs(cfg.test_evaluator):
        rerank = metric.get('rerank') if metric.get(
            'type') == 'ReIDMetric' else None
        if rerank:
            return dict(rerank) if isinstance(rerank, dict) else {}
    return None


def use_flip_tta(cfg: Config) -> None:
    """Wrap the model in ``ReIDFlipTTAModel`` (``cfg.tta_model`` may give
    another TTA wrapper)."""
    tta_model = copy.deepcopy(
        cfg.get('tta_model', dict(type='ReIDFlipTTAModel')))
    cfg.model = ConfigDict(**tta_model, module=cfg.model)


def build_cfg(args: argparse.Namespace) -> Config:
    """The test config: CONFIG with the command line applied."""
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.allow_partial_load:
        cfg[STRICT_KEY] = False
    # Training-only parts are not needed to evaluate.
    cfg.custom_hooks = [
        h for h in cfg.get('custom_hooks', [])
        if h['type'] not in ('ClusterRefreshHook', 'MemoryMomentumHook')
    ]
    if args.test_sets:
        use_test_sets(cfg, args.test_sets)
    if args.rerank:
        use_rerank(cfg)
    if args.tta or cfg.get('test_tta', False):
        use_flip_tta(cfg)
    return cfg


def format_table(metrics: Dict[str, float], default_name: str) -> str:
    """A Markdown table: one row per test set, one column per metric.

    Args:
        metrics (dict): ``[dataset/][prefix/]name -> value``.
        default_name (str): the row name of unprefixed metrics.

    Returns:
        str: the table.
    """
    groups: Dict[str, Dict[str, float]] = {}
    for key, value in metrics.items():
        head, _, name = key.rpartition('/')
        groups.setdefault(head, {})[name] = value
    # A row per test set; per metric prefix too when there are several.
    prefixes = {head.rpartition('/')[2] for head in groups}
    rows: Dict[str, Dict[str, float]] = {}
    for head, row in groups.items():
        dataset, _, prefix = head.rpartition('/')
        label = dataset or default_name
        if len(prefixes) > 1:
            label += f' [{prefix}]'
        rows[label] = row
    columns = [c for c in TABLE_COLUMNS if any(c in r for r in rows.values())]
    columns += sorted({c for r in rows.values() for c in r} - set(columns))
    width = max([len('test set')] + [len(r) for r in rows])
    lines = [
        '| ' + 'test set'.ljust(width) + ' | ' +
        ' | '.join(f'{c:>7}' for c in columns) + ' |',
        '|' + '-' * (width + 2) + '|' + '|'.join('-' * 9
                                                for _ in columns) + '|'
    ]
    for name, row in rows.items():
        cells = [
            f'{row[c]:7.2f}' if isinstance(row.get(c), (int, float)) else
            f'{"-":>7}' for c in columns
        ]
        lines.append('| ' + name.ljust(width) + ' | ' + ' | '.join(cells) +
                     ' |')
    return '\n'.join(lines)


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    # ReIDFlipTTAModel, MultiDatasetsEvaluator, ...; the runner sets the
    # config's default scope itself.
    register_all_modules(init_default_scope=False)
    check_checkpoint_arg(args.checkpoint)
    cfg = build_cfg(args)
    init_cpu_process_group(args.launcher, cfg)
    runner = build_runner(cfg)
    ensure_checkpoint_fit_hook(runner)
    if args.show_dir:
        runner.register_hook(
            RankedListVisualizationHook(
                out_dir=args.show_dir,
                topk=args.show_topk,
                num_queries=args.show_num,
                rerank=rerank_setting(cfg)))
    metrics = runner.test()
    if runner.rank == 0:
        name = cfg.test_dataloader.dataset.get('type', 'test')
        table = format_table(metrics, default_name=name)
        runner.logger.info('results:\n' + table)
        if args.out:
            os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
            with open(args.out, 'w') as f:
                json.dump(metrics, f, indent=2)
    close_process_group()
    return metrics


if __name__ == '__main__':
    freeze_gc_at_exit()
    main()
