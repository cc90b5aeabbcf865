"""The README's demo: synthetic data -> Cluster-Contrast -> mAP / CMC.

1. Generates the embedded synthetic multi-camera set (once; reused after).
2. Evaluates the model training starts from (the config's, as
   ``init_cfg`` / ``load_from`` give it: for the default config the
   MSMT17 OSNet-x0.25 of the model zoo).
3. Trains Cluster-Contrast without labels, printing one line per epoch
   (loss, clusters, pseudo-label ARI against the hidden identities, mAP).
4. Tests the last epoch, prints both results side by side and writes a
   picture of ranked lists and one of the training curves.

The terminal shows only that; MMEngine's full log goes to the log file of
the work dir, whose path is printed first.
"""
import argparse
import contextlib
import io
import json
import logging
import os
import os.path as osp
import sys
import time
from typing import List, Optional

import cv2
import numpy as np
from mmengine.config import Config, DictAction
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmreid_unsup.datasets.synthetic import generate_synthetic_reid
from mmreid_unsup.engine import build_runner
from mmreid_unsup.engine.hooks import EpochSummaryHook
from mmreid_unsup.utils import (atomic_write_bytes, freeze_gc_at_exit,
                                 register_all_modules)
from mmreid_unsup.visualization import RankedListVisualizationHook

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)),
                            'analysis_tools'))
from plot_curves import plot_curves  # noqa: E402

DEFAULT_CONFIG = ('configs/cluster_contrast/'
                  'cluster-contrast_osnet-x0.25-msmt17-zoo_1xb32-8e_'
                  'synthetic-demo.py')
#: Panels of the training-curve picture.
CURVE_KEYS = ('loss', 'mAP', 'pseudo_num_clusters', 'pseudo_ari')
#: Queries drawn in the ranked-list picture.
NUM_QUERIES = 4


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, help='overrides')
    return parser.parse_args(argv)


class LastMetricsHook(Hook):
    """Keep the metrics of the latest test."""

    priority = 'LOWEST'

    def __init__(self) -> None:
        self.metrics = {}

    def after_test_epoch(self, runner, metrics=None) -> None:
        self.metrics = dict(metrics or {})


def _row(name: str, metrics: dict) -> str:
    return (f'| {name:<24} | {metrics["reid/mAP"]:6.2f} | '
            f'{metrics["reid/rank1"]:6.2f} | {metrics["reid/rank5"]:6.2f} | '
            f'{metrics["reid/rank10"]:6.2f} | {metrics["reid/mINP"]:6.2f} |')


def quiet_config(cfg: Config) -> None:
    """No progress bars from the refresh hooks, no per-query pictures."""
    for hook in cfg.get('custom_hooks', []):
        if 'progress' in _hook_args(hook['type']):
            hook['progress'] = False


def _hook_args(hook_type) -> tuple:
    import inspect

    from mmreid_unsup.registry import HOOKS
    cls = HOOKS.get(hook_type) if isinstance(hook_type, str) else hook_type
    return tuple(inspect.signature(cls).parameters) if cls else ()


class NoMMEngineDeprecations(logging.Filter):
    """Drop MMEngine's notices about its own deprecated internals.

    ``CheckpointHook`` calls the deprecated ``FileClient`` on every run;
    the user can do nothing about it. The log file still has them.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return 'will be deprecated in future' not in record.getMessage()


def build_quiet_runner(cfg: Config) -> Runner:
    """Build the runner with the console handler of its logger silenced.

    What MMEngine prints while it builds (environment, config) and logs
    later still goes to the log file; the console shows warnings and
    errors only, and those raised while building are repeated there.
    """
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        runner = build_runner(cfg)
    for handler in runner.logger.handlers:
        if (isinstance(handler, logging.StreamHandler)
                and not isinstance(handler, logging.FileHandler)):
            handler.setStream(sys.stdout)
            handler.setLevel(logging.WARNING)
            handler.addFilter(NoMMEngineDeprecations())
    for line in captured.getvalue().splitlines():
        if ((' - WARNING - ' in line or ' - ERROR - ' in line)
                and 'will be deprecated in future' not in line):
            print(line)
    return runner


def log_file(runner: Runner) -> str:
    """The path of the runner's log file."""
    for handler in runner.logger.handlers:
        if isinstance(handler, logging.FileHandler):
            return handler.baseFilename
    return osp.join(runner.log_dir, f'{runner.timestamp}.log')


def stack_pictures(folder: str, out_file: str) -> str:
    """Stack the PNGs of ``folder`` (one ranked list each) into one file."""
    names = sorted(n for n in os.listdir(folder) if n.endswith('.png'))
    images = [cv2.imread(osp.join(folder, n)) for n in names]
    width = max(image.shape[1] for image in images)
    rows = [
        cv2.copyMakeBorder(image, 0, 4, 0, width - image.shape[1],
                           cv2.BORDER_CONSTANT, value=(255, 255, 255))
        for image in images
    ]
    cv2.imwrite(out_file, np.concatenate(rows, axis=0))
    return out_file


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir
    # A name of its own: MMEngine shares the logger and visualizer of
    # runners with the same experiment name (by default the config name
    # and the second it started), and the demo reads its own log back.
    cfg.experiment_name = f'demo_{time.time_ns()}'
    quiet_config(cfg)

    start = time.perf_counter()
    counts = generate_synthetic_reid(
        cfg.demo_data_root, progress=False, **cfg.demo_data)
    print(f'demo data: {cfg.demo_data_root} ({counts["num_train"]} training '
          f'images without labels, {counts["num_query"]} queries, '
          f'{counts["num_gallery"]} gallery images)')

    runner = build_quiet_runner(cfg)
    # Under the work dir as the user gave it, like the pictures below.
    print('full log: ' + osp.join(
        args.work_dir, osp.relpath(log_file(runner), runner.work_dir)))
    pictures = osp.join(runner.log_dir, 'ranked_lists')
    last_metrics = LastMetricsHook()
    runner.register_hook(EpochSummaryHook())
    runner.register_hook(last_metrics)
    runner.register_hook(
        RankedListVisualizationHook(
            out_dir=pictures, num_queries=NUM_QUERIES, topk=8))
    before = runner.val()
    print(f'before training: mAP {before["reid/mAP"]:.2f}; training '
          f'{cfg.model.type} for {cfg.train_cfg.max_epochs} epochs')
    runner.train()
    runner.test()
    after = last_metrics.metrics
    minutes = (time.perf_counter() - start) / 60

    ranked = stack_pictures(pictures, osp.join(args.work_dir,
                                               'ranked_lists.png'))
    curves = osp.join(args.work_dir, 'training_curves.png')
    plot_curves([runner.log_dir], CURVE_KEYS, curves)
    table = '\n'.join([
        ('| model                    |   mAP  | rank-1 | rank-5 | rank10 '
         '|  mINP  |'),
        ('|--------------------------|--------|--------|--------|--------'
         '|--------|'),
        _row('before training', before),
        _row(f'{cfg.model.type} ({cfg.train_cfg.max_epochs} ep)', after),
    ])
    print('\n' + table + f'\n\ndemo wall time: {minutes:.1f} min')
    print(f'ranked lists of {NUM_QUERIES} queries: {ranked}')
    print(f'training curves: {curves}')
    results = dict(before=before, after=after, minutes=minutes,
                   ranked_lists=ranked, training_curves=curves)
    atomic_write_bytes(
        json.dumps(results, indent=2).encode(),
        osp.join(args.work_dir, 'demo_results.json'))
    return results


if __name__ == '__main__':
    freeze_gc_at_exit()
    main()
