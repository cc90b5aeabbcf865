"""Benchmark one training step of the protocol model.

The fair CPU protocol spends most of its time in forward / backward passes
of the MSMT17 OSNet-x0.25 (backbone + 512-d fc) on 64 images of 256x128,
starting from torchreid's weights (the model zoo's
``osnet-x0.25_msmt17-torchreid``, in the repository). This script times
such steps (a squared-feature loss, Adam) in three settings, each on its
own copy of the model:

- ``nchw``: the batch in the default layout;
- ``channels_last``: the batch in channels-last
  (``ReIDDataPreprocessor(channels_last=True)``);
- ``channels_last_zeroed``: the same, with the model's denormal weights set
  to zero first (``DenormalFlushHook``,
  ``mmreid_unsup/models/utils/denormals.py``).

The settings alternate step by step so that all see the same load; the
median step time of each and the ratios to ``nchw`` are reported.

Usage::

    python benchmarks/training_step.py [--steps 6] [--batch-size 64]
        [--out benchmarks/results/training_step.json]
"""
import argparse
import statistics
import sys
import time
from copy import deepcopy
from pathlib import Path
from typing import Dict, List, Optional

import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))


def measure(steps: int, batch_size: int) -> Dict[str, List[float]]:
    """Seconds of each step, per setting (one warm-up step each first)."""
    from feature_extraction import protocol_model

    from mmreid_unsup.models.utils.denormals import flush_denormals_
    torch.manual_seed(0)
    model = protocol_model().train()
    batch = torch.randn(batch_size, 3, 256, 128)
    channels_last = batch.contiguous(memory_format=torch.channels_last)
    settings = {}
    for name, x in (('nchw', batch), ('channels_last', channels_last),
                    ('channels_last_zeroed', channels_last)):
        copy = deepcopy(model)
        if name.endswith('zeroed'):
            flush_denormals_(copy)
        optimizer = torch.optim.Adam(copy.parameters(), lr=1e-5)
        settings[name] = (copy, optimizer, x)

    def step(name: str) -> float:
        copy, optimizer, x = settings[name]
        start = time.perf_counter()
        loss = copy.neck(copy.backbone(x)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return time.perf_counter() - start

    for name in settings:
        step(name)
    times: Dict[str, List[float]] = {name: [] for name in settings}
    for _ in range(steps):
        for name in settings:
            times[name].append(step(name))
    return times


def main(argv: Optional[List[str]] = None) -> Dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--steps', type=int, default=6)
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument(
        '--out',
        default=str(REPO_ROOT / 'benchmarks' / 'results' /
                    'training_step.json'))
    args = parser.parse_args(argv)

    import compare_methods

    times = measure(args.steps, args.batch_size)
    medians = {k: statistics.median(v) for k, v in times.items()}
    result = dict(
        **compare_methods.run_record(),
        batch_size=args.batch_size,
        seconds=times,
        median_seconds=medians,
        speedup={
            name: medians['nchw'] / value
            for name, value in medians.items()
        })
    lines = ['| setting | median s/step | speed-up |', '|---|---|---|']
    lines += [
        f"| {name} | {value:.2f} | {result['speedup'][name]:.2f}x |"
        for name, value in medians.items()
    ]
    compare_methods.write_results(result, '\n'.join(lines), Path(args.out))
    return result


if __name__ == '__main__':
    sys.path.insert(0, str(REPO_ROOT))
    main()
