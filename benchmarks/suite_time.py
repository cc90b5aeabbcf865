"""Time the README's commands on fresh checkouts of commits, back to back.

The suite's and the demo's bars (under 12 and 5 minutes) are on the slower
CPU kind, a 2-core AMD EPYC without AVX-512, which a session seldom has.
One commit was timed there: ``b060d78``, the main of 2026-12-03, whose
``make test`` took 24 min 26 s of pytest and ``make demo`` 11.5 min on
that CPU (``../shared/ENVIRONMENT.md``, "CPU kinds"). This script times
that commit and the current one on one machine in one run, so that the
slower kind's time of the current commit can be estimated from a ratio
measured on the very same commands (:data:`SLOWER_KIND_SECONDS`), and on
the slower kind itself it measures the bars directly.

For each commit, in a detached ``git worktree`` of its own under
``--workdir``: ``make venv`` (the install: its time and the venv's size),
then ``make test`` and ``make demo``, each timed (wall and CPU seconds of
the whole process tree) with its exit code and result (pytest's counts
summed over its passes; the demo's last mAP). Every step's output goes to
a log file beside the worktree. ``MMREID_SHARED_DIR`` points the tests at
this checkout's shared folder; ``--kernels`` limits the CPU kernels as
``tools/run_tests.py --kernels`` does, for every step and any commit.

Usage::

    python benchmarks/suite_time.py [--commits b060d78 HEAD]
        [--steps venv test demo] [--kernels native] [--workdir DIR]
        [--keep] [--out benchmarks/results/suite_time.json]

About 30 minutes on 2 cores with AVX-512 for the two default commits
(``b060d78``'s suite alone takes 14 min there), 6.3 GB of disk per venv
(each worktree is removed after its steps unless ``--keep``).
"""
import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(REPO_ROOT / 'tools'))

#: The steps, as ``make`` targets, in the order they run.
STEPS = ('venv', 'test', 'demo')
#: Seconds each step of a commit took on the slower CPU kind (the AVX2-only
#: AMD EPYC of 2026-12-03, issue 15): pytest's own time and the demo's.
SLOWER_KIND_SECONDS = {'b060d78': {'test': 24 * 60 + 26, 'demo': 11.5 * 60}}
#: A pytest summary line: ``1517 passed, 22 warnings in 210.02s``, with or
#: without the ``=`` rules around it.
_SUMMARY = re.compile(r'^=*\s*((?:\d+ [a-z]+(?:, )?)+) in [\d.]+s')


def pytest_counts(output: str) -> Dict[str, int]:
    """pytest's outcome counts, summed over every summary line (one per
    pass of ``tools/run_tests.py``).

    Args:
        output (str): What ``make test`` printed.

    Returns:
        dict: ``{outcome: count}`` (``passed``, ``failed``, ``errors``,
        ``skipped``...; ``deselected`` and ``warnings`` are left out, since
        each pass deselects the other's tests). Empty if pytest printed no
        summary.
    """
    counts: Dict[str, int] = {}
    for line in output.splitlines():
        match = _SUMMARY.match(line.strip())
        if not match:
            continue
        for part in match.group(1).split(', '):
            number, outcome = part.split(' ', 1)
            outcome = 'errors' if outcome == 'error' else outcome
            if outcome not in ('deselected', 'warnings', 'warning'):
                counts[outcome] = counts.get(outcome, 0) + int(number)
    return counts


def demo_map(output: str) -> Optional[float]:
    """The trained model's mAP in the demo's final table.

    Args:
        output (str): What ``make demo`` printed.

    Returns:
        float or None: The mAP (second column) of the table's last row;
        None unless rows of the model before and after training are there.
    """
    found = []
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if (line.startswith('|') and len(cells) > 1
                and re.fullmatch(r'\d+(\.\d+)?', cells[1])):
            found.append(float(cells[1]))
    return found[-1] if len(found) > 1 else None


def run_step(step: str, checkout: Path, env: Dict[str, str],
             log: Path) -> Dict:
    """``make STEP`` in a checkout, timed.

    Args:
        step (str): One of :data:`STEPS`.
        checkout (Path): The worktree.
        env (dict): The environment of ``make``.
        log (Path): Where its output goes.

    Returns:
        dict: ``step``, ``seconds`` (wall), ``cpu_seconds`` (user + system
        of ``make`` and everything it started), ``exit_code``, ``log`` and
        the step's result: ``counts`` (test), ``map`` (demo) or
        ``venv_bytes`` (venv).
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
        result['counts'] = pytest_counts(output)
    elif step == 'demo':
        result['map'] = demo_map(output)
    elif step == 'venv':
        result['venv_bytes'] = sum(
            p.stat().st_size for p in (checkout / '.venv').rglob('*')
            if p.is_file() and not p.is_symlink())
    return result


def time_commit(repo: Path, commit: str, steps: List[str], workdir: Path,
                env: Dict[str, str], keep: bool) -> Dict:
    """Check a commit out in a worktree of its own and time its steps.

    Args:
        repo (Path): The repository.
        commit (str): Any revision ``git`` resolves.
        steps (list[str]): Those of :data:`STEPS` to run, in that order.
        workdir (Path): Where the worktree and the logs go.
        env (dict): The steps' environment.
        keep (bool): Keep the worktree (and its venv) afterwards.

    Returns:
        dict: ``commit`` (the resolved hash), ``revision`` (as given) and
        ``steps`` (:func:`run_step`'s results).
    """
    sha = subprocess.run(
        ['git', 'rev-parse', '--verify', f'{commit}^{{commit}}'],
        cwd=repo,
        capture_output=True,
        text=True)
    if sha.returncode != 0:
        raise SystemExit(f'suite_time: {commit!r} is not a commit of {repo}')
    sha = sha.stdout.strip()
    checkout = workdir / sha[:12]
    subprocess.run(
        ['git', 'worktree', 'add', '--detach', '-f',
         str(checkout), sha],
        cwd=repo,
        check=True,
        capture_output=True)
    results = []
    try:
        for step in steps:
            print(f'suite_time: {sha[:12]} make {step}', flush=True)
            results.append(
                run_step(step, checkout, env,
                         workdir / f'{sha[:12]}_{step}.log'))
    finally:
        if not keep:
            subprocess.run(['git', 'worktree', 'remove', '--force',
                            str(checkout)], cwd=repo, capture_output=True)
            shutil.rmtree(checkout, ignore_errors=True)
    return dict(commit=sha, revision=commit, steps=results)


def estimates(runs: List[Dict]) -> Dict[str, Dict[str, float]]:
    """The slower kind's seconds of each commit's test and demo, from the
    ratio of a reference commit timed there (:data:`SLOWER_KIND_SECONDS`)
    and here in the same run.

    Args:
        runs (list[dict]): :func:`time_commit`'s results.

    Returns:
        dict: ``{step: {'reference': commit, 'ratio': r, commit: seconds}}``
        for each step a reference commit was timed for; empty without one.
    """
    found: Dict[str, Dict[str, float]] = {}
    for ref in runs:
        known = next((v for k, v in SLOWER_KIND_SECONDS.items()
                      if ref['commit'].startswith(k)), None)
        for step in ref['steps'] if known else []:
            if step['step'] not in known or step['seconds'] <= 0:
                continue
            ratio = known[step['step']] / step['seconds']
            found[step['step']] = dict(reference=ref['commit'][:12],
                                       ratio=round(ratio, 3))
            for run in runs:
                for other in run['steps']:
                    if other['step'] == step['step']:
                        found[step['step']][run['commit'][:12]] = round(
                            other['seconds'] * ratio, 1)
    return found


def table(runs: List[Dict], guesses: Dict[str, Dict[str, float]]) -> str:
    """A Markdown table: one row per commit and step."""
    lines = [
        '| commit | step | wall | CPU s | exit | result | slower kind |',
        '|---|---|---|---|---|---|---|'
    ]
    for run in runs:
        for step in run['steps']:
            if 'counts' in step:
                result = ', '.join(f'{n} {k}'
                                   for k, n in step['counts'].items())
            elif 'map' in step:
                result = f"mAP {step['map']}"
            else:
                result = f"{step.get('venv_bytes', 0) / 1e9:.1f} GB"
            guess = guesses.get(step['step'], {})
            short = run['commit'][:12]
            slower = ''
            if short in guess:
                minutes, seconds = divmod(round(guess[short]), 60)
                kind = 'measured' if short == guess['reference'] else \
                    f"est. x{guess['ratio']}"
                slower = f'{minutes} min {seconds:02d} s ({kind})'
            minutes, seconds = divmod(round(step['seconds']), 60)
            lines.append(f"| {short} | make {step['step']} | "
                         f'{minutes} min {seconds:02d} s | '
                         f"{step['cpu_seconds']:.0f} | {step['exit_code']} | "
                         f'{result} | {slower} |')
    return '\n'.join(lines)


def main(argv: Optional[List[str]] = None) -> Dict:
    from machine_info import machine
    from run_tests import KERNEL_SETTINGS
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--commits', nargs='+', default=['b060d78', 'HEAD'])
    parser.add_argument('--steps', nargs='+', choices=STEPS,
                        default=list(STEPS))
    parser.add_argument('--kernels', choices=sorted(KERNEL_SETTINGS),
                        default='native')
    parser.add_argument('--repo', type=Path, default=REPO_ROOT)
    parser.add_argument(
        '--shared',
        type=Path,
        default=Path(
            os.environ.get('MMREID_SHARED_DIR', REPO_ROOT.parent / 'shared')),
        help='the shared folder (data/cuhk03, weights) the tests read')
    parser.add_argument('--workdir', type=Path)
    parser.add_argument('--keep', action='store_true')
    parser.add_argument(
        '--out', type=Path,
        default=REPO_ROOT / 'benchmarks' / 'results' / 'suite_time.json')
    args = parser.parse_args(argv)
    steps = [s for s in STEPS if s in args.steps]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix='suite_time_'))
    workdir.mkdir(parents=True, exist_ok=True)
    limits = KERNEL_SETTINGS[args.kernels]
    env = dict(os.environ, MMREID_SHARED_DIR=str(args.shared.resolve()),
               **limits)
    env.pop('VIRTUAL_ENV', None)
    runs = [
        time_commit(args.repo, commit, steps, workdir, env, args.keep)
        for commit in args.commits
    ]
    guesses = estimates(runs)
    report = dict(
        description=__doc__.split('\n\n')[0],
        date=time.strftime('%Y-%m-%d %H:%M %Z'),
        machine=dict(machine(), kernel_limits=limits),
        kernels=args.kernels,
        slower_kind_seconds=SLOWER_KIND_SECONDS,
        runs=runs,
        estimates=guesses)
    text = table(runs, guesses)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + '\n')
    args.out.with_suffix('.md').write_text(text + '\n')
    print(f'written to {args.out} and {args.out.with_suffix(".md")}')
    return report


if __name__ == '__main__':
    main()
