"""Benchmark the refresh feature pass: memory layout and batch size.

Every epoch, ``ClusterRefreshHook`` (and ``InstanceMemoryHook`` once)
extracts the features of the whole training set with the test pipeline
(``mmreid_unsup/engine/feature_extraction.py``). This script times that
pass on real CUHK03 crops with the fair protocol's model (the MSMT17
OSNet-x0.25 at 256x128) for each batch size and input memory layout
(``channels_last``), with the model's denormal weights kept or zeroed for
the pass (``flush_denormals``, ``mmreid_unsup/models/utils/denormals.py``),
in one process and one run, and checks that every setting gives the
baseline's features (cosine to the first setting: NCHW, denormals kept,
the first batch size).

Usage::

    python benchmarks/feature_extraction.py [--num-images 1024]
        [--batch-sizes 64 128 256] [--repeats 2] [--data-root DIR]
        [--out benchmarks/results/feature_extraction.json]

The protocol's loader settings (2 workers) are used; each setting runs
``--repeats`` times and the fastest run counts (the first run of a setting
also warms oneDNN's kernel cache).
"""
import argparse
import json
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

PROTOCOL_CONFIG = (REPO_ROOT / 'configs' / 'osnet' /
                   'osnet-x0.25_msmt17-torchreid_cuhk03-dev.py')


def protocol_model() -> torch.nn.Module:
    """The protocol config's model with the zoo's torchreid weights
    (``osnet-x0.25_msmt17-torchreid``, in the repository), loaded strictly
    by :func:`mmreid_unsup.apis.init_model`; in eval mode."""
    from mmreid_unsup.apis import init_model
    from mmreid_unsup.model_zoo import get_checkpoint
    return init_model(
        PROTOCOL_CONFIG,
        str(get_checkpoint('osnet-x0.25_msmt17-torchreid')))


def build_loader(cfg, num_images: int, batch_size: int,
                 data_root: Optional[str] = None):
    """The first ``num_images`` training crops with the test pipeline
    (from ``data_root`` instead of the config's when given)."""
    from mmengine.dataset import DefaultSampler, pseudo_collate
    from torch.utils.data import DataLoader, Subset

    from mmreid_unsup.registry import DATASETS
    dataset_cfg = cfg.cluster_dataloader.dataset.copy()
    if data_root is not None:
        dataset_cfg.data_root = data_root
    dataset = DATASETS.build(dataset_cfg)
    subset = Subset(dataset, range(min(num_images, len(dataset))))
    return DataLoader(
        subset,
        batch_size=batch_size,
        num_workers=cfg.cluster_dataloader.get('num_workers', 2),
        sampler=DefaultSampler(subset, shuffle=False),
        collate_fn=pseudo_collate)


def run(num_images: int,
        batch_sizes: List[int],
        repeats: int,
        data_root: Optional[str] = None) -> Dict:
    """Time every (layout, denormal weights, batch size) setting; returns
    the rows."""
    from mmengine.config import Config

    from mmreid_unsup.engine.feature_extraction import \
        extract_dataset_features
    cfg = Config.fromfile(str(PROTOCOL_CONFIG))
    model = protocol_model()
    rows, baseline = [], None
    for channels_last in (False, True):
        for flush in (False, True):
            for batch_size in batch_sizes:
                loader = build_loader(cfg, num_images, batch_size, data_root)
                times = []
                for _ in range(repeats):
                    start = time.perf_counter()
                    feats = extract_dataset_features(
                        model, loader, progress=False,
                        channels_last=channels_last, flush_denormals=flush)
                    times.append(time.perf_counter() - start)
                if baseline is None:
                    baseline = feats
                cosine = torch.nn.functional.cosine_similarity(
                    feats, baseline, dim=1).min().item()
                rows.append(
                    dict(
                        layout='channels_last' if channels_last else 'nchw',
                        flush_denormals=flush,
                        batch_size=batch_size,
                        seconds=min(times),
                        images_per_s=len(feats) / min(times),
                        min_cosine_to_baseline=cosine))
                print(json.dumps(rows[-1]), flush=True)
    base = rows[0]['seconds']
    for row in rows:
        row['speedup'] = base / row['seconds']
    return rows


def table(rows: List[Dict]) -> str:
    lines = [
        '| layout | denormal weights | batch | seconds | images/s | '
        'speed-up | min cosine |', '|---|---|---|---|---|---|---|'
    ]
    for r in rows:
        flushed = 'zeroed' if r['flush_denormals'] else 'kept'
        lines.append(f"| {r['layout']} | {flushed} | {r['batch_size']} | "
                     f"{r['seconds']:.1f} | {r['images_per_s']:.1f} | "
                     f"{r['speedup']:.2f}x | "
                     f"{r['min_cosine_to_baseline']:.6f} |")
    return '\n'.join(lines)


def main(argv: Optional[List[str]] = None) -> Dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num-images', type=int, default=1024)
    parser.add_argument(
        '--batch-sizes', type=int, nargs='+', default=[64, 128, 256])
    parser.add_argument('--repeats', type=int, default=2)
    parser.add_argument(
        '--data-root', help="the CUHK03 crops (default: the config's)")
    parser.add_argument(
        '--out',
        default=str(REPO_ROOT / 'benchmarks' / 'results' /
                    'feature_extraction.json'))
    args = parser.parse_args(argv)

    import compare_methods

    import mmreid_unsup  # noqa: F401
    rows = run(args.num_images, args.batch_sizes, args.repeats,
               args.data_root)
    result = dict(
        **compare_methods.run_record(),
        num_images=args.num_images,
        rows=rows)
    compare_methods.write_results(result, table(rows), Path(args.out))
    return result


if __name__ == '__main__':
    sys.path.insert(0, str(REPO_ROOT))
    main()
