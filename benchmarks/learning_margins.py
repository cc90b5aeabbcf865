"""Measure the learning tests' margins over seeds and CPU kernels.

The learning tests (``tests/test_e2e/test_*_synthetic.py::
test_training_beats_the_untrained_model``) train a method briefly on a
synthetic set and require gains above thresholds. A threshold must hold on
every CPU the suite runs on, whatever its vector kernels, and for other
seeds than the one CI uses. This script runs those tests under each kernel
setting and seed (``MMREID_TEST_SEED``, ``tests/learning_checks.py``) with
pytest-xdist, reads every check's value and threshold from the JUnit XML
that pytest writes, and reports per check the lowest and highest value and
the smallest margin (lowest value minus threshold).

Kernel settings: ``native`` (what the CPU has), ``avx2``
(``ATEN_CPU_CAPABILITY=avx2``, ``ONEDNN_MAX_CPU_ISA=AVX2``) and
``default`` (``ATEN_CPU_CAPABILITY=default``, ``ONEDNN_MAX_CPU_ISA=AVX2``),
the settings the recorded margins were measured with. They limit torch's
kernels only; ``tools/run_tests.py --kernels avx2`` also limits MKL,
OpenBLAS and numpy (the whole suite passed so on 2026-12-07).

Usage::

    python benchmarks/learning_margins.py [--seeds 0 1 2]
        [--kernels native avx2 default] [--workers 2] [--jobs 1]
        [--tests NODE_ID ...]
        [--out benchmarks/results/learning_margins.json]

Each (kernels, seed) pair is one pytest run with ``--workers`` xdist
workers; ``--jobs`` such runs go at once (for one test, ``--workers 1
--jobs 2`` keeps two cores busy). About an hour on 2 cores with AVX-512
for the default 3 x 3 runs of the five tests.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, Iterable, List, Optional

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

#: The learning tests, one per method.
LEARNING_TESTS = tuple(
    f'tests/test_e2e/test_{name}_synthetic.py::'
    'test_training_beats_the_untrained_model'
    for name in ('cluster_contrast', 'gracl', 'gsl', 'ppssl', 'scl'))

#: Environment of each kernel setting.
KERNELS = {
    'native': {},
    'avx2': dict(ATEN_CPU_CAPABILITY='avx2', ONEDNN_MAX_CPU_ISA='AVX2'),
    'default': dict(ATEN_CPU_CAPABILITY='default', ONEDNN_MAX_CPU_ISA='AVX2'),
}

#: The suffix of a check's threshold property (``tests/learning_checks.py``).
THRESHOLD_SUFFIX = ' threshold'


def parse_junit(path: Path) -> List[Dict]:
    """The test cases of a JUnit XML file with their checks.

    Args:
        path (Path): pytest's ``--junitxml`` output.

    Returns:
        list[dict]: Per test case: ``test`` (``file::name``), ``passed``,
        ``seconds`` (its duration) and ``checks``
        (``{name: {'value': v, 'threshold': t}}``).
    """
    cases = []
    for case in ET.parse(path).getroot().iter('testcase'):
        properties = {
            p.get('name'): float(p.get('value'))
            for p in case.iter('property')
        }
        checks = {
            name: dict(
                value=value,
                threshold=properties[name + THRESHOLD_SUFFIX])
            for name, value in properties.items()
            if not name.endswith(THRESHOLD_SUFFIX)
            and name + THRESHOLD_SUFFIX in properties
        }
        failed = any(
            case.find(tag) is not None
            for tag in ('failure', 'error', 'skipped'))
        module = case.get('classname', '').rsplit('.', 1)[-1]
        cases.append(
            dict(
                test=f"{module}::{case.get('name')}",
                passed=not failed,
                seconds=float(case.get('time', 'nan')),
                checks=checks))
    return cases


def summarise(runs: Iterable[Dict]) -> List[Dict]:
    """Per test, check and threshold: the runs, lowest and highest value,
    margin.

    Runs whose test had another threshold for a check (it was changed
    while the runs went on) get a row of their own, so that no margin is
    taken against a threshold the run did not have.

    Args:
        runs (Iterable[dict]): Test cases of :func:`parse_junit`, each with
            ``kernels`` and ``seed`` added.

    Returns:
        list[dict]: Rows with ``test``, ``check``, ``threshold``, ``runs``,
        ``min``, ``max``, ``margin`` (``min - threshold``) and ``failed``
        (how many runs were at or below the threshold).
    """
    rows: Dict[tuple, Dict] = {}
    for run in runs:
        for name, check in run['checks'].items():
            row = rows.setdefault(
                (run['test'], name, check['threshold']),
                dict(test=run['test'], check=name,
                     threshold=check['threshold'], values=[]))
            row['values'].append(
                dict(kernels=run['kernels'], seed=run['seed'],
                     value=check['value']))
    summary = []
    for row in rows.values():
        values = [v['value'] for v in row['values']]
        summary.append(
            dict(row,
                 runs=len(values),
                 min=min(values),
                 max=max(values),
                 margin=min(values) - row['threshold'],
                 failed=sum(v <= row['threshold'] for v in values)))
    return summary


def table(summary: List[Dict]) -> str:
    """A Markdown table of :func:`summarise`'s rows."""
    lines = [
        '| test | check | threshold | runs | lowest | highest | margin | '
        'failed |', '|---|---|---|---|---|---|---|---|'
    ]
    for r in summary:
        lines.append(
            f"| {r['test'].split('::')[0]} | {r['check']} | "
            f"{r['threshold']:g} | {r['runs']} | {r['min']:.3f} | "
            f"{r['max']:.3f} | {r['margin']:+.3f} | {r['failed']} |")
    return '\n'.join(lines)


def run_tests(kernels: str, seed: int, workers: int,
              tests: Iterable[str]) -> List[Dict]:
    """Run the learning tests once under one kernel setting and seed.

    Args:
        kernels (str): A key of :data:`KERNELS`.
        seed (int): ``MMREID_TEST_SEED``.
        workers (int): pytest-xdist workers (one torch thread each).
        tests (Iterable[str]): Test node ids.

    Returns:
        list[dict]: The test cases of :func:`parse_junit`, with
        ``kernels`` and ``seed``.
    """
    env = dict(os.environ, MMREID_TEST_SEED=str(seed), OMP_NUM_THREADS='1',
               **KERNELS[kernels])
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / 'junit.xml'
        command = [
            sys.executable, '-m', 'pytest', *tests, '-q', '-p',
            'no:cacheprovider', f'--junitxml={xml}', '-o',
            'junit_family=xunit1'
        ]
        if workers > 1:
            command += ['-n', str(workers)]
        subprocess.run(command, cwd=REPO_ROOT, env=env, check=False)
        if not xml.is_file():
            raise RuntimeError(f'pytest wrote no {xml} ({kernels}, seed '
                               f'{seed}): see its output above')
        cases = parse_junit(xml)
    return [dict(case, kernels=kernels, seed=seed) for case in cases]


def main(argv: Optional[List[str]] = None) -> Dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument(
        '--kernels', nargs='+', choices=sorted(KERNELS),
        default=['native', 'avx2', 'default'])
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument(
        '--jobs', type=int, default=1,
        help='pytest runs at once (each with --workers workers)')
    parser.add_argument(
        '--tests', nargs='+', default=list(LEARNING_TESTS),
        help='test node ids (default: the five learning tests)')
    parser.add_argument(
        '--out',
        default=str(REPO_ROOT / 'benchmarks' / 'results' /
                    'learning_margins.json'))
    args = parser.parse_args(argv)

    import compare_methods
    settings = [(k, seed) for k in args.kernels for seed in args.seeds]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = pool.map(
            lambda setting: run_tests(*setting, args.workers, args.tests),
            settings)
        runs = [case for cases in results for case in cases]
    summary = summarise(runs)
    result = dict(
        **compare_methods.run_record(),
        seeds=args.seeds,
        kernels={k: KERNELS[k] for k in args.kernels},
        runs=runs,
        summary=summary)
    compare_methods.write_results(result, table(summary), Path(args.out))
    return result


if __name__ == '__main__':
    main()
