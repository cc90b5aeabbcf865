"""Benchmark one training step of the protocol model in both layouts.

The fair CPU protocol spends most of its time in forward / backward passes
of the MSMT17 OSNet-x0.25 (backbone + 512-d fc) on 64 images of 256x128.
This script times such steps (a squared-feature loss, Adam) with the batch
in the default NCHW layout and in channels-last (``ReIDDataPreprocessor(
channels_last=True)``), alternating the two so that both see the same load,
and reports the median step time of each and their ratio.

Usage::

    python benchmarks/training_step.py [--steps 6] [--batch-size 64]
        [--out benchmarks/results/training_step.json]
"""
import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))


def measure(steps: int, batch_size: int) -> Dict[str, List[float]]:
    """Seconds of each step, per layout (one warm-up step each first)."""
    from mmreid_unsup.models import OSNet, OSNetFCNeck
    torch.manual_seed(0)
    backbone, neck = OSNet('x0_25'), OSNetFCNeck(128)
    params = list(backbone.parameters()) + list(neck.parameters())
    optimizer = torch.optim.Adam(params, lr=1e-5)
    batch = torch.randn(batch_size, 3, 256, 128)
    batches = dict(
        nchw=batch,
        channels_last=batch.contiguous(memory_format=torch.channels_last))

    def step(x: torch.Tensor) -> float:
        start = time.perf_counter()
        loss = neck(backbone(x)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return time.perf_counter() - start

    for x in batches.values():
        step(x)
    times: Dict[str, List[float]] = {name: [] for name in batches}
    for _ in range(steps):
        for name, x in batches.items():
            times[name].append(step(x))
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
        speedup_channels_last=medians['nchw'] / medians['channels_last'])
    lines = ['| layout | median s/step |', '|---|---|']
    lines += [f'| {name} | {value:.2f} |' for name, value in medians.items()]
    lines.append(f"\nchannels-last speed-up: "
                 f"{result['speedup_channels_last']:.2f}x")
    compare_methods.write_results(result, '\n'.join(lines), Path(args.out))
    return result


if __name__ == '__main__':
    sys.path.insert(0, str(REPO_ROOT))
    main()
