"""Time the README's commands on fresh checkouts of commits, back to back.

The suite's and the demo's bars (under 12 and 5 minutes) are on the slower
CPU kind, a 2-core AMD EPYC without AVX-512, which a session seldom has.
One commit was timed there: ``b060d78``, the main of 2026-12-03, whose
``make test`` took 24 min 26 s of pytest and ``make demo`` 11.5 min on
that CPU (``../shared/ENVIRONMENT.md``, "CPU kinds"). Timed here in the
same run as other commits, it gives the ratio of the two machines on the
very same commands (:data:`SLOWER_KIND_SECONDS`), and from it an estimate
of the other commits' times on the slower kind. Run there, the table's
times are that kind's own.

For each commit, in a detached ``git worktree`` of its own under
``--workdir``: ``make venv`` (the install: its time and the venv's size;
the first commit's install fills pip's cache for the later ones), then
``make test`` and ``make demo`` (``--steps``), each timed (wall, and the
CPU seconds of the processes ``make`` waited for) with its exit code and
result (pytest's counts and seconds summed over its passes; the demo's
final mAP). Every step's output goes to a log file beside the worktree;
the report is written again after each commit. The steps run in the
caller's environment without what would change them (make's flags and
variables, the Makefile's settings, a venv, ``PYTHONPATH``, pytest's
options, thread counts, kernel limits), with ``MMREID_SHARED_DIR`` set to
``--shared`` and the kernels of ``--kernels`` (``tools/run_tests.py
--kernels``).

Usage::

    python benchmarks/suite_time.py [--commits b060d78 HEAD]
        [--steps test demo] [--kernels native] [--workdir DIR] [--keep]
        [--out benchmarks/results/suite_time.json]

About 30 minutes on 2 cores with AVX-512 for the two default commits
(``b060d78``'s suite alone takes 14 min there), and 6.3 GB of disk for
each venv (each worktree is removed after its steps unless ``--keep``).
"""
import argparse
import importlib.util
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine_info import KERNEL_LIMITS  # noqa: E402

#: The steps that can be timed after ``make venv``, in the order they run.
STEPS = ('test', 'demo')
#: Seconds of a commit's steps on the slower CPU kind (the AVX2-only AMD
#: EPYC of 2026-12-03, issue 15): ``test`` is pytest's own time (its
#: summary's, one pass then), ``demo`` the wall time of ``make demo``.
SLOWER_KIND_SECONDS = {'b060d78': {'test': 24 * 60 + 26, 'demo': 11.5 * 60}}
#: The caller's variables that would change what a step runs: make's
#: (a sub-make takes its caller's flags and command-line variables), the
#: Makefile's settings, a venv, Python's and pytest's, thread counts.
CALLER_SETTINGS = ('MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'MAKEOVERRIDES',
                   'PYTHON', 'VENV', 'PYTEST_ARGS', 'KERNELS', 'SHARED',
                   'VIRTUAL_ENV', 'PYTHONPATH', 'PYTHONHOME',
                   'PYTEST_ADDOPTS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS')
#: A pytest summary line, whole: ``1517 passed, 22 warnings in 210.02s
#: (0:03:30)``, with or without the ``=`` rules around it.
_SUMMARY = re.compile(r'^=*\s*((?:\d+ [a-z]+(?: [a-z]+)?(?:, )?)+) '
                      r'in ([\d.]+)s(?: \(\d+:\d\d:\d\d\))?\s*=*$')


def pytest_summary(output: str) -> Tuple[Dict[str, int], float]:
    """pytest's outcome counts and seconds, summed over its summary lines
    (one per pass of ``tools/run_tests.py``).

    Args:
        output (str): What ``make test`` printed.

    Returns:
        tuple: ``{outcome: count}`` (``passed``, ``failed``, ``errors``,
        ``skipped``...; not ``deselected``, since each pass deselects the
        other's tests, nor ``warnings``) and the seconds pytest reported.
        Empty and 0.0 if pytest printed no summary.
    """
    counts: Dict[str, int] = {}
    seconds = 0.0
    for line in output.splitlines():
        match = _SUMMARY.match(line.strip())
        if not match:
            continue
        seconds += float(match.group(2))
        for part in match.group(1).split(', '):
            number, outcome = part.split(' ', 1)
            outcome = 'errors' if outcome == 'error' else outcome
            if outcome not in ('deselected', 'warnings', 'warning'):
                counts[outcome] = counts.get(outcome, 0) + int(number)
    return counts, seconds


def demo_map(output: str) -> Optional[float]:
    """The trained model's mAP in the demo's final table.

    Args:
        output (str): What ``make demo`` printed.

    Returns:
        float or None: The second column of the last table row with a
        number there; None if fewer than two such rows (the model before
        and after training) were printed.
    """
    found = []
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if (line.startswith('|') and len(cells) > 1
                and re.fullmatch(r'\d+(\.\d+)?', cells[1])):
            found.append(float(cells[1]))
    return found[-1] if len(found) > 1 else None


def kernel_settings() -> Dict[str, Dict[str, str]]:
    """``tools/run_tests.py``'s environment of each ``--kernels``
    setting."""
    spec = importlib.util.spec_from_file_location(
        'run_tests', REPO_ROOT / 'tools' / 'run_tests.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.KERNEL_SETTINGS


def step_env(base: Dict[str, str], limits: Dict[str, str],
             shared: Path) -> Dict[str, str]:
    """The steps' environment.

    Args:
        base (dict): The caller's environment.
        limits (dict): The kernel limits to set.
        shared (Path): The shared folder the tests read
            (``MMREID_SHARED_DIR``).

    Returns:
        dict: ``base`` without :data:`CALLER_SETTINGS`, the kernel limits
        of :data:`machine_info.KERNEL_LIMITS` and the caller's venv on
        ``PATH``, with ``limits`` and ``MMREID_SHARED_DIR``.
    """
    venvs = {str(Path(base['VIRTUAL_ENV']) / 'bin')} \
        if base.get('VIRTUAL_ENV') else set()
    if sys.prefix != sys.base_prefix:  # this script runs in a venv
        venvs.add(str(Path(sys.prefix) / 'bin'))
    env = {
        name: value
        for name, value in base.items()
        if name not in CALLER_SETTINGS and name not in KERNEL_LIMITS
    }
    env['PATH'] = os.pathsep.join(
        p for p in base.get('PATH', '').split(os.pathsep)
        if p.rstrip('/') not in venvs)
    env.update(limits, MMREID_SHARED_DIR=str(shared))
    return env


def run_step(step: str, checkout: Path, env: Dict[str, str],
             log: Path) -> Dict:
    """``make STEP`` in a checkout, timed.

    Args:
        step (str): ``'venv'`` or one of :data:`STEPS`.
        checkout (Path): The worktree.
        env (dict): The environment of ``make``.
        log (Path): Where its output goes.

    Returns:
        dict: ``step``, ``seconds`` (wall), ``cpu_seconds`` (user + system
        of ``make`` and the processes it waited for), ``exit_code``,
        ``log`` and the step's result: ``counts`` and ``pytest_seconds``
        (test), ``map`` (demo) or ``venv_bytes`` (venv).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(log, 'w') as out:
        code = subprocess.run(['make', step], cwd=checkout, env=env,
                              stdout=out, stderr=subprocess.STDOUT).returncode
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = dict(
        step=step,
        seconds=round(seconds, 3),
        cpu_seconds=round(after.ru_utime - before.ru_utime + after.ru_stime -
                          before.ru_stime, 1),
        exit_code=code,
        log=str(log))
    output = log.read_text(errors='replace')
    if step == 'test':
        result['counts'], result['pytest_seconds'] = pytest_summary(output)
    elif step == 'demo':
        result['map'] = demo_map(output)
    elif step == 'venv':
        result['venv_bytes'] = sum(
            p.stat().st_size for p in (checkout / '.venv').rglob('*')
            if p.is_file() and not p.is_symlink())
    return result


def resolve(repo: Path, revisions: List[str]) -> List[str]:
    """The full hash of each revision, all checked before anything runs.

    Raises:
        SystemExit: A revision is not a commit of ``repo``.
    """
    hashes = []
    for revision in revisions:
        found = subprocess.run(
            ['git', 'rev-parse', '--verify', f'{revision}^{{commit}}'],
            cwd=repo,
            capture_output=True,
            text=True)
        if found.returncode != 0:
            raise SystemExit(
                f'suite_time: {revision!r} is not a commit of {repo}')
        hashes.append(found.stdout.strip())
    return hashes


def time_commit(repo: Path, commit: str, name: str, steps: List[str],
                workdir: Path, env: Dict[str, str], keep: bool) -> Dict:
    """Check a commit out in a worktree of its own, install it and time
    its steps.

    Args:
        repo (Path): The repository.
        commit (str): A full commit hash.
        name (str): The worktree's folder name (its logs start with it).
        steps (list[str]): Those of :data:`STEPS` to run after
            ``make venv``, in that order.
        workdir (Path): Where the worktree and the logs go.
        env (dict): The steps' environment (:func:`step_env`).
        keep (bool): Keep the worktree (and its venv) afterwards.

    Returns:
        dict: ``commit`` and ``steps`` (:func:`run_step`'s results,
        ``make venv``'s first).

    Raises:
        SystemExit: The worktree's folder exists, or git cannot add it.
    """
    checkout = workdir / name
    if checkout.exists():
        raise SystemExit(f'suite_time: {checkout} exists (a kept worktree?):'
                         ' remove it or choose another --workdir')
    added = subprocess.run(
        ['git', 'worktree', 'add', '--detach',
         str(checkout), commit],
        cwd=repo,
        capture_output=True,
        text=True)
    if added.returncode != 0:
        raise SystemExit(f'suite_time: git worktree add {checkout} failed: '
                         f'{added.stderr.strip()}')
    results = []
    try:
        for step in ['venv'] + steps:
            print(f'suite_time: {name} make {step}', flush=True)
            results.append(
                run_step(step, checkout, env, workdir / f'{name}_{step}.log'))
    finally:
        if not keep:
            subprocess.run(
                ['git', 'worktree', 'remove', '--force',
                 str(checkout)],
                cwd=repo,
                capture_output=True)
            shutil.rmtree(checkout, ignore_errors=True)
            subprocess.run(['git', 'worktree', 'prune'],
                           cwd=repo,
                           capture_output=True)
    return dict(commit=commit, steps=results)


def _compared_seconds(step: Dict) -> Optional[float]:
    """The seconds of a step that :data:`SLOWER_KIND_SECONDS` compares
    with: pytest's own for ``test``, the wall time of a demo that ran to
    its end and printed its table; None if the step did not get that
    far."""
    if step['step'] == 'test':
        return step.get('pytest_seconds') or None
    if (step['step'] == 'demo' and step['exit_code'] == 0
            and step.get('map') is not None):
        return step['seconds']
    return None


def add_slower_kind(runs: List[Dict]) -> Dict[str, Dict]:
    """Give every test and demo step its seconds on the slower kind: the
    recorded ones for the reference commit, the others' from the ratio.

    The first run of a commit in :data:`SLOWER_KIND_SECONDS` is the
    reference. A step gets ``slower_kind_seconds`` (its wall time times
    the ratio; for the reference, the recorded figure) and
    ``slower_kind`` (``'recorded'`` or ``'estimated'``).

    Args:
        runs (list[dict]): :func:`time_commit`'s results (changed in
            place).

    Returns:
        dict: ``{step: {'reference': hash, 'ratio': r}}`` for each step
        the reference has a usable time of here; empty without one.
    """
    ratios: Dict[str, Dict] = {}
    reference = next((run for run in runs if any(
        run['commit'].startswith(k) for k in SLOWER_KIND_SECONDS)), None)
    if reference is None:
        return ratios
    recorded = next(v for k, v in SLOWER_KIND_SECONDS.items()
                    if reference['commit'].startswith(k))
    for step in reference['steps']:
        here = _compared_seconds(step)
        if step['step'] in recorded and here:
            ratios[step['step']] = dict(
                reference=reference['commit'],
                ratio=round(recorded[step['step']] / here, 3))
    for run in runs:
        for step in run['steps']:
            if step['step'] not in ratios:
                continue
            if run is reference:
                step['slower_kind_seconds'] = recorded[step['step']]
                step['slower_kind'] = 'recorded'
            else:
                step['slower_kind_seconds'] = round(
                    step['seconds'] * ratios[step['step']]['ratio'], 1)
                step['slower_kind'] = 'estimated'
    return ratios


def _minutes(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f'{minutes} min {seconds:02d} s'


def table(runs: List[Dict], ratios: Dict[str, Dict]) -> str:
    """A Markdown table: one row per commit and step."""
    lines = [
        '| commit | step | wall | CPU s | exit | result | slower kind |',
        '|---|---|---|---|---|---|---|'
    ]
    for run in runs:
        for step in run['steps']:
            if step['step'] == 'test':
                result = ', '.join(f'{n} {k}'
                                   for k, n in step['counts'].items())
            elif step['step'] == 'demo':
                result = f"mAP {step['map']}"
            else:
                result = f"{step['venv_bytes'] / 1e9:.1f} GB"
            slower = ''
            if 'slower_kind_seconds' in step:
                how = step['slower_kind'] if step['slower_kind'] == \
                    'recorded' else f"x{ratios[step['step']]['ratio']}"
                slower = f"{_minutes(step['slower_kind_seconds'])} ({how})"
            lines.append(f"| {run['commit'][:12]} | make {step['step']} | "
                         f"{_minutes(step['seconds'])} | "
                         f"{step['cpu_seconds']:.0f} | {step['exit_code']} | "
                         f'{result} | {slower} |')
    return '\n'.join(lines)


def main(argv: Optional[List[str]] = None) -> Dict:
    """Time the commits; returns what it wrote to the JSON file."""
    import compare_methods
    settings = kernel_settings()
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--commits', nargs='+', default=['b060d78', 'HEAD'])
    parser.add_argument('--steps', nargs='+', choices=STEPS,
                        default=list(STEPS),
                        help='timed after make venv, which always runs')
    parser.add_argument('--kernels', choices=sorted(settings),
                        default='native')
    parser.add_argument('--repo', type=Path, default=REPO_ROOT)
    parser.add_argument(
        '--shared',
        type=Path,
        default=Path(
            os.environ.get('MMREID_SHARED_DIR', REPO_ROOT.parent / 'shared')),
        help='the shared folder (data/cuhk03, weights) the tests read')
    parser.add_argument('--workdir', type=Path,
                        default=REPO_ROOT / 'work_dirs' / 'suite_time')
    parser.add_argument('--keep', action='store_true')
    parser.add_argument(
        '--out', type=Path,
        default=REPO_ROOT / 'benchmarks' / 'results' / 'suite_time.json')
    args = parser.parse_args(argv)
    repo, workdir = args.repo.resolve(), args.workdir.resolve()
    commits = resolve(repo, args.commits)
    steps = [s for s in STEPS if s in args.steps]
    workdir.mkdir(parents=True, exist_ok=True)
    env = step_env(dict(os.environ), settings[args.kernels],
                   args.shared.resolve())
    record = compare_methods.run_record()
    record['machine']['kernel_limits'] = {
        name: env[name] for name in KERNEL_LIMITS if name in env}
    runs: List[Dict] = []
    for index, (revision, commit) in enumerate(zip(args.commits, commits)):
        run = time_commit(repo, commit, f'{index}-{commit[:12]}', steps,
                          workdir, env, args.keep)
        runs.append(dict(run, revision=revision))
        ratios = add_slower_kind(runs)
        report = dict(
            description=__doc__.split('\n\n')[0],
            date=time.strftime('%Y-%m-%d %H:%M %Z'),
            kernels=args.kernels,
            slower_kind_seconds=SLOWER_KIND_SECONDS,
            runs=runs,
            ratios=ratios,
            **record)
        compare_methods.write_results(report, table(runs, ratios), args.out)
    return report


if __name__ == '__main__':
    main()
