"""Benchmark ReIDMetric against two plain per-query evaluations.

``python benchmarks/evaluation.py [--problems market1501 msmt17] [--dim 2048]
[--out benchmarks/results/evaluation.json]``

Two problem sizes with generated features (identity centres plus noise,
L2-normalised, random cameras):

- ``market1501``: 3,368 queries x 15,913 gallery images, 751 identities,
  6 cameras;
- ``msmt17``: 11,659 queries x 82,161 gallery images, 3,060 identities,
  15 cameras.

Three implementations, each run in a fresh process so that its peak memory
can be measured alone:

- ``ReIDMetric``: ``ReIDMetric.compute_metrics`` on the per-sample results
  (stacks the features, then ranks blocks of 1,024 queries, its default);
- ``numpy per-query``: the textbook evaluation (as in torchreid's Python
  ``eval_market1501``): the dense ``(Q, G)`` float32 distance matrix, then,
  for each query, a stable ``argsort`` of its row, junk removal, CMC, AP
  (cumulative precision) and INP;
- ``sklearn AP (Cluster-Contrast)``: the same dense matrix and sorted rows,
  with each query's AP from ``sklearn.metrics.average_precision_score`` on
  its sorted matches and negated distances, as Cluster-Contrast's
  ``mean_ap`` computes it; CMC and INP as above.

The two dense evaluations take their distances from the function
ReIDMetric uses (:func:`~mmreid_unsup.evaluation.functional.
feature_distance_blocks`, blocks of 1,024 queries), so all three rank the
very same float32 numbers: another matrix product would round some
distances the other way and flip near-ties. ReIDMetric and the numpy
per-query evaluation must then agree to 1e-6 percentage points on mAP, CMC
and mINP; the sklearn evaluator on CMC and mINP. Its AP differs where a true
match ties with other items (it counts a tie as one threshold, where the
ranking orders tied items by gallery index), so its mAP is only reported
(``mAP_minus_reidmetric``).

Time is wall time of the evaluation only; peak memory is the largest
resident set size above the one before the evaluation started (features
already in memory), read from ``/proc/self/status`` after resetting the
high-water mark. The JSON records the CPU model and its vector extensions
(``avx512f``...), torch's thread count and the 1-, 5- and 15-minute load
averages before and after the run: a load above the number of cores means
other jobs shared the machine.
"""
import argparse
import json
import os
import os.path as osp
import platform
import subprocess
import sys
import time
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from sklearn.metrics import average_precision_score

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from machine_info import machine  # noqa: E402
from mmreid_unsup.evaluation.functional import feature_distance_blocks
from mmreid_unsup.evaluation.metrics.reid_metric import DEFAULT_CHUNK_SIZE

PROBLEMS = dict(
    market1501=dict(
        num_query=3368, num_gallery=15913, num_ids=751, num_cams=6),
    msmt17=dict(
        num_query=11659, num_gallery=82161, num_ids=3060, num_cams=15),
    # A quick check of the script itself (not in the default run).
    smoke=dict(num_query=200, num_gallery=1000, num_ids=50, num_cams=4),
)
DEFAULT_PROBLEMS = ('market1501', 'msmt17')
METHODS = ('reidmetric', 'numpy_per_query', 'sklearn_ap')
METHOD_NAMES = dict(
    reidmetric='ReIDMetric',
    numpy_per_query='numpy per-query',
    sklearn_ap='sklearn AP (Cluster-Contrast)')


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


def dense_distances(q_feats: torch.Tensor,
                    g_feats: torch.Tensor) -> np.ndarray:
    """The dense ``(Q, G)`` float32 matrix of the distances ReIDMetric
    ranks (``2 - 2 cos``, from blocks of as many queries as its)."""
    distmat = np.empty((q_feats.size(0), g_feats.size(0)), dtype=np.float32)
    for start, block in feature_distance_blocks(
            q_feats, g_feats, DEFAULT_CHUNK_SIZE, reuse=True):
        distmat[start:start + block.size(0)] = block.numpy()
    return distmat


def _sorted_matches(distmat: np.ndarray, q_pids: np.ndarray,
                    g_pids: np.ndarray, q_camids: np.ndarray,
                    g_camids: np.ndarray):
    """For each query: its kept items' match flags and distances, in the
    stable order of its row (junk removed)."""
    for q in range(len(q_pids)):
        order = np.argsort(distmat[q], kind='stable')
        same = g_pids[order] == q_pids[q]
        keep = ~(same & (g_camids[order] == q_camids[q]))
        yield same[keep], distmat[q][order][keep]


def _scores(aps: list, firsts: list, inps: list,
            topk: Tuple[int, ...]) -> Dict[str, float]:
    firsts = np.asarray(firsts)
    out = dict(mAP=100 * float(np.mean(aps)))
    for k in topk:
        out[f'rank{k}'] = 100 * float(np.mean(firsts <= k))
    out['mINP'] = 100 * float(np.mean(inps))
    return out


def numpy_per_query(distmat: np.ndarray, q_pids: np.ndarray,
                    g_pids: np.ndarray, q_camids: np.ndarray,
                    g_camids: np.ndarray,
                    topk=(1, 5, 10)) -> Dict[str, float]:
    """The plain evaluation, one query at a time: cumulative-precision AP
    (torchreid's), CMC and INP."""
    aps, inps, firsts = [], [], []
    for matches, _ in _sorted_matches(distmat, q_pids, g_pids, q_camids,
                                      g_camids):
        if not matches.any():
            continue
        ranks = np.flatnonzero(matches) + 1
        aps.append(np.mean(np.arange(1, len(ranks) + 1) / ranks))
        inps.append(len(ranks) / ranks[-1])
        firsts.append(ranks[0])
    return _scores(aps, firsts, inps, topk)


def sklearn_ap(distmat: np.ndarray, q_pids: np.ndarray, g_pids: np.ndarray,
               q_camids: np.ndarray, g_camids: np.ndarray,
               topk=(1, 5, 10)) -> Dict[str, float]:
    """Cluster-Contrast's way: each query's AP is scikit-learn's
    ``average_precision_score`` of its sorted matches against the negated
    distances; CMC and INP from the same sorted matches."""
    aps, inps, firsts = [], [], []
    for matches, dists in _sorted_matches(distmat, q_pids, g_pids,
                                          q_camids, g_camids):
        if not matches.any():
            continue
        aps.append(average_precision_score(matches, -dists))
        ranks = np.flatnonzero(matches) + 1
        inps.append(len(ranks) / ranks[-1])
        firsts.append(ranks[0])
    return _scores(aps, firsts, inps, topk)


REFERENCES = dict(numpy_per_query=numpy_per_query, sklearn_ap=sklearn_ap)


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
    if method in REFERENCES:
        labels = [t.numpy() for t in data[2:]]
        _reset_peak()
        start = time.perf_counter()
        scores = REFERENCES[method](dense_distances(q_feats, g_feats),
                                    *labels)
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
    return dict(
        seconds=seconds,
        peak_mb=peak_mb,
        scores=scores,
        load_average_after=list(os.getloadavg()))


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
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
    return parser.parse_args(argv)


def table(results: dict) -> str:
    """Time and peak memory of every implementation (columns), then the
    scores."""
    methods = [m for m in METHODS if any(m in r for r in results.values())]
    lines = [
        '| problem (queries x gallery) | ' +
        ' | '.join(METHOD_NAMES[m] for m in methods) + ' |',
        '|---|' + '---:|' * len(methods)
    ]
    for problem, runs in results.items():
        spec = PROBLEMS[problem]
        cells = [
            f'{runs[m]["seconds"]:.1f} s, {runs[m]["peak_mb"]:,.0f} MB'
            if m in runs else '' for m in methods
        ]
        lines.append(f'| {problem} ({spec["num_query"]:,} x '
                     f'{spec["num_gallery"]:,}) | ' + ' | '.join(cells) +
                     ' |')
    lines += [
        '', '| problem | implementation | mAP | rank-1 | rank-5 | rank-10 | '
        'mINP |', '|---|---|---:|---:|---:|---:|---:|'
    ]
    for problem, runs in results.items():
        for method, run in runs.items():
            s = run['scores']
            lines.append(
                f'| {problem} | {METHOD_NAMES[method]} | {s["mAP"]:.4f} | '
                f'{s["rank1"]:.2f} | {s["rank5"]:.2f} | {s["rank10"]:.2f} | '
                f'{s["mINP"]:.4f} |')
    return '\n'.join(lines)


def check_agreement(problem: str, runs: dict) -> None:
    """ReIDMetric and the numpy evaluation agree on every score, the
    sklearn evaluator on CMC and mINP (its AP treats ties apart), to 1e-6
    percentage points; record the sklearn mAP's difference."""
    if 'reidmetric' not in runs:
        return
    expected = runs['reidmetric']['scores']
    for method, run in runs.items():
        if method == 'reidmetric':
            continue
        for key, value in run['scores'].items():
            if method == 'sklearn_ap' and key == 'mAP':
                run['mAP_minus_reidmetric'] = value - expected[key]
                continue
            if abs(value - expected[key]) > 1e-6:
                raise AssertionError(
                    f'{problem}: {key} differs between ReIDMetric and '
                    f'{METHOD_NAMES[method]}: {expected[key]} vs {value}')
        run['speedup_of_reidmetric'] = (
            run['seconds'] / runs['reidmetric']['seconds'])


def main(argv: Optional[List[str]] = None) -> Optional[dict]:
    """Run every implementation on every problem; print the tables and
    write the JSON report, which is returned."""
    args = parse_args(argv)
    if args.worker:
        print(
            json.dumps(worker(*args.worker, dim=args.dim, noise=args.noise)))
        return
    load_before = os.getloadavg()
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
        check_agreement(problem, results[problem])
    report = dict(
        machine=dict(
            machine(),
            python=platform.python_version(),
            numpy=np.__version__),
        load_average_before=list(load_before),
        load_average_after=list(os.getloadavg()),
        feature_dim=args.dim,
        noise=args.noise,
        chunk_size=DEFAULT_CHUNK_SIZE,
        results=results)
    os.makedirs(osp.dirname(args.out), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(report, f, indent=2)
    print('\n' + table(results))
    print(f'\n(written to {args.out})')
    return report


if __name__ == '__main__':
    main()
