"""The README's demo: synthetic data -> Cluster-Contrast -> mAP / CMC.

1. Generates the embedded synthetic multi-camera set (once; reused after).
2. Evaluates the untrained model (random initialisation).
3. Trains Cluster-Contrast without labels and evaluates the last epoch.
4. Prints both results side by side.
"""
import argparse
import json
import os.path as osp
import time

from mmengine.config import Config, DictAction
from mmengine.hooks import Hook
from mmengine.runner import Runner

import mmreid_unsup  # noqa: F401
from mmreid_unsup.datasets.synthetic import generate_synthetic_reid
from mmreid_unsup.utils import atomic_write_bytes

DEFAULT_CONFIG = 'configs/cluster_contrast/cluster-contrast_r18_1xb32-30e_synthetic-demo.py'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, help='overrides')
    return parser.parse_args()


class LastMetricsHook(Hook):
    """Keep the metrics of the latest validation."""

    priority = 'LOWEST'

    def __init__(self) -> None:
        self.metrics = {}

    def after_val_epoch(self, runner, metrics=None) -> None:
        self.metrics = dict(metrics or {})


def _row(name: str, metrics: dict) -> str:
    return (f'| {name:<24} | {metrics["reid/mAP"]:6.2f} | '
            f'{metrics["reid/rank1"]:6.2f} | {metrics["reid/rank5"]:6.2f} | '
            f'{metrics["reid/rank10"]:6.2f} | {metrics["reid/mINP"]:6.2f} |')


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir

    start = time.perf_counter()
    counts = generate_synthetic_reid(cfg.demo_data_root, **cfg.demo_data)
    print(f'demo data in {cfg.demo_data_root}: {counts}')

    runner = Runner.from_cfg(cfg)
    last_metrics = LastMetricsHook()
    runner.register_hook(last_metrics)
    before = runner.val()
    runner.train()  # validates after the last epoch
    after = last_metrics.metrics
    minutes = (time.perf_counter() - start) / 60

    table = '\n'.join([
        '| model                    |   mAP  | rank-1 | rank-5 | rank10 |  mINP  |',
        '|--------------------------|--------|--------|--------|--------|--------|',
        _row('untrained', before),
        _row(f'{cfg.model.type} ({cfg.train_cfg.max_epochs} ep)', after),
    ])
    print('\n' + table + f'\n\ndemo wall time: {minutes:.1f} min')
    atomic_write_bytes(
        json.dumps(
            dict(before=before, after=after, minutes=minutes),
            indent=2).encode(), osp.join(args.work_dir, 'demo_results.json'))


if __name__ == '__main__':
    main()
