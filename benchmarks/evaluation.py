"""Benchmark ReIDMetric against a plain per-query numpy evaluation.

``python benchmarks/evaluation.py [--problems market1501 msmt17] [--dim 2048]
[--out benchmarks/results/evaluation.json]``

Two problem sizes with generated features (identity centres plus noise,
L2-normalised, random cameras):

- ``market1501``: 3,368 queries x 15,913 gallery images, 751 identities,
  6 cameras;
- ``msmt17``: 11,659 queries x 82,161 gallery images, 3,060 identities,
  15 cameras.

Two implementations, each run in a fresh process so that its peak memory
can be measured alone:

- ``ReIDMetric``: ``ReIDMetric.compute_metrics`` on the per-sample results
  (stacks the features, then ranks blocks of 256 queries);
- ``numpy per-query``: the textbook evaluation (as in torchreid's Python
  ``eval_market1501``): the dense float32 distance matrix from one matrix
  product, then, for each query, a stable ``argsort`` of its row, junk
  removal, CMC, AP and INP.

Time is wall time of the evaluation only; peak memory is the largest
resident set size above the one before the evaluation started (features
already in memory), read from ``/proc/self/status`` after resetting the
high-water mark. Both must give the same mAP, CMC and mINP (to 1e-4
percentage points: their float32 distances come from different matrix
products, so a near-tie can round either way).
"""
import argparse
import json
import os
import os.path as osp
import platform
import subprocess
import sys
import time
from typing import Dict, Tuple

import numpy as np
import torch

PROBLEMS = dict(
    market1501=dict(
        num_query=3368, num_gallery=15913, num_ids=751, num_cams=6),
    msmt17=dict(
        num_query=11659, num_gallery=82161, num_ids=3060, num_cams=15),
    # A quick check of the script itself (not in the default run).
    smoke=dict(num_query=200, num_gallery=1000, num_ids=50, num_cams=4),
)
DEFAULT_PROBLEMS = ('market1501', 'msmt17')
METHODS = ('reidmetric', 'numpy_per_query')
METHOD_NAMES = dict(
    reidmetric='ReIDMetric', numpy_per_query='numpy per-query')


def generate(problem: str,
             dim: int,
             noise: float = 3.5,
             seed: int = 0) -> Tuple[torch.Tensor, ...]:
    """Query / gallery features, pids and camids of a problem: unit
    identity centres plus Gaussian noise of norm about ``noise``."""
    spec = PROBLEMS[problem]
    gen = torch.Generator().manual_seed(seed)
    centres = torch.nn.functional.normalize(
        torch.randn(spec['num_ids'], dim, generator=gen), dim=1)
    sigma = noise / dim**0.5

    def part(num):
        pids = torch.randint(0, spec['num_ids'], (num, ), generator=gen)
        camids = torch.randint(0, spec['num_cams'], (num, ), generator=gen)
        feats = torch.empty(num, dim)
        for s in range(0, num, 8192):
            block = centres[pids[s:s + 8192]]
            block += sigma * torch.randn(block.shape, generator=gen)
            feats[s:s + 8192] = torch.nn.functional.normalize(block, dim=1)
        return feats, pids, camids

    return part(spec['num_query']) + part(spec['num_gallery'])


def numpy_per_query(q_feats: np.ndarray, g_feats: np.ndarray,
                    q_pids: np.ndarray, g_pids: np.ndarray,
                    q_camids: np.ndarray, g_camids: np.ndarray,
                    topk=(1, 5, 10)) -> Dict[str, float]:
    """The plain evaluation: dense distances, one query at a time."""
    distmat = q_feats @ g_feats.T
    distmat *= -2  # in place: one (Q, G) float32 matrix, no temporaries
    distmat += 2
    aps, inps, firsts = [], [], []
    for q in range(len(q_pids)):
        order = np.argsort(distmat[q], kind='stable')
        keep = ~((g_pids[order] == q_pids[q]) &
                 (g_camids[order] == q_camids[q]))
        matches = (g_pids[order] == q_pids[q])[keep]
        if not matches.any():
            continue
        ranks = np.flatnonzero(matches) + 1
        aps.append(np.mean(np.arange(1, len(ranks) + 1) / ranks))
        inps.append(len(ranks) / ranks[-1])
        firsts.append(ranks[0])
    firsts = np.asarray(firsts)
    out = dict(mAP=100 * float(np.mean(aps)))
    for k in topk:
        out[f'rank{k}'] = 100 * float(np.mean(firsts <= k))
    out['mINP'] = 100 * float(np.mean(inps))
    return out


def metric_results(q_feats, g_feats, q_pids, g_pids, q_camids,
                   g_camids) -> list:
    """The per-sample records ReIDMetric.process stores."""
    return [
        dict(feat=f, pid=int(p), camid=int(c), is_query=True)
        for f, p, c in zip(q_feats, q_pids.tolist(), q_camids.tolist())
    ] + [
        dict(feat=f, pid=int(p), camid=int(c), is_query=False)
        for f, p, c in zip(g_feats, g_pids.tolist(), g_camids.tolist())
    ]


def _status_kb(key: str) -> int:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1])
    raise KeyError(key)


_BASELINE_KB = [0]


def _reset_peak() -> None:
    """Reset the peak-RSS mark and remember the current RSS."""
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')
    _BASELINE_KB[0] = _status_kb('VmRSS')


def worker(problem: str, method: str, dim: int, noise: float) -> dict:
    """Run one implementation on one problem (in this process)."""
    q_feats, q_pids, q_camids, g_feats, g_pids, g_camids = generate(
        problem, dim, noise)
    data = (q_feats, g_feats, q_pids, g_pids, q_camids, g_camids)
    if method == 'numpy_per_query':
        args = [t.numpy() for t in data]
        _reset_peak()
        start = time.perf_counter()
        scores = numpy_per_query(*args)
    else:
        from mmengine.logging import MMLogger

        from mmreid_unsup.evaluation import ReIDMetric
        MMLogger.get_instance('benchmark', log_level='WARNING')
        metric = ReIDMetric()
        results = metric_results(*data)
        _reset_peak()
        start = time.perf_counter()
        scores = metric.compute_metrics(results)
    seconds = time.perf_counter() - start
    peak_mb = (_status_kb('VmHWM') - _BASELINE_KB[0]) / 1024
    return dict(seconds=seconds, peak_mb=peak_mb, scores=scores)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--problems',
        nargs='+',
        default=list(DEFAULT_PROBLEMS),
        choices=list(PROBLEMS))
    parser.add_argument(
        '--methods', nargs='+', default=list(METHODS), choices=METHODS)
    parser.add_argument('--dim', type=int, default=2048)
    parser.add_argument(
        '--noise',
        type=float,
        default=3.5,
        help='noise norm around the unit identity centres')
    parser.add_argument(
        '--out',
        default=osp.join(
            osp.dirname(osp.abspath(__file__)), 'results', 'evaluation.json'))
    parser.add_argument('--worker', nargs=2, metavar=('PROBLEM', 'METHOD'),
                        help=argparse.SUPPRESS)
    return parser.parse_args()


def table(results: dict) -> str:
    lines = [
        '| problem (queries x gallery) | implementation | time (s) | '
        'peak memory (MB) | mAP | rank-1 | mINP |',
        '|---|---|---:|---:|---:|---:|---:|'
    ]
    for problem, runs in results.items():
        spec = PROBLEMS[problem]
        size = f'{problem} ({spec["num_query"]:,} x {spec["num_gallery"]:,})'
        for method, run in runs.items():
            s = run['scores']
            lines.append(
                f'| {size} | {METHOD_NAMES[method]} | {run["seconds"]:.1f} | '
                f'{run["peak_mb"]:,.0f} | {s["mAP"]:.2f} | {s["rank1"]:.2f} | '
                f'{s["mINP"]:.2f} |')
    return '\n'.join(lines)


def main() -> None:
    args = parse_args()
    if args.worker:
        print(
            json.dumps(worker(*args.worker, dim=args.dim, noise=args.noise)))
        return
    results: dict = {}
    for problem in args.problems:
        results[problem] = {}
        for method in args.methods:
            out = subprocess.run(
                [
                    sys.executable,
                    osp.abspath(__file__), '--worker', problem, method,
                    '--dim',
                    str(args.dim), '--noise',
                    str(args.noise)
                ],
                check=True,
                capture_output=True,
                text=True)
            run = json.loads(out.stdout.strip().splitlines()[-1])
            results[problem][method] = run
            print(f'{problem} {METHOD_NAMES[method]}: {run["seconds"]:.1f} s, '
                  f'{run["peak_mb"]:,.0f} MB, mAP {run["scores"]["mAP"]:.4f}',
                  flush=True)
        # The two compute the float32 distances with different matrix
        # products, so a near-tie may round the other way: allow 1e-4
        # percentage points.
        runs = list(results[problem].values())
        for run in runs[1:]:
            for key, value in runs[0]['scores'].items():
                if abs(run['scores'][key] - value) > 1e-4:
                    raise AssertionError(
                        f'{problem}: {key} differs between implementations: '
                        f'{value} vs {run["scores"][key]}')
    report = dict(
        machine=dict(
            cpus=os.cpu_count(),
            torch_threads=torch.get_num_threads(),
            processor=platform.processor() or platform.machine(),
            python=platform.python_version(),
            torch=torch.__version__,
            numpy=np.__version__),
        feature_dim=args.dim,
        noise=args.noise,
        results=results)
    os.makedirs(osp.dirname(args.out), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(report, f, indent=2)
    print('\n' + table(results))
    print(f'\n(written to {args.out})')


if __name__ == '__main__':
    main()
