"""Run the test suite in two passes; a run that collects no test fails.

1. Every single-process test (not ``dist``, see ``pytest.ini``), the
   end-to-end trainings included, on every core with pytest-xdist
   (work stealing, so that one long test does not leave a core idle while
   the other runs a queue), one torch thread per worker: on 2 cores two
   one-thread trainings get more done than one two-thread training, whose
   threads wait on each other at every small convolution, and more still
   when a neighbour takes CPU time.
2. The multi-process (``dist``) tests one after the other in one process:
   each already starts one process per core, and the fault tests time out
   ranks that a busy machine would slow down.

Arguments go to both passes; a ``-m EXPR`` narrows both (``make
test-fast`` leaves pass 2 empty). Without pytest-xdist installed, or with
``--serial``, everything runs in one pass.

``--kernels avx2`` runs the suite, on any CPU with AVX2, on the kernels of
one without AVX-512: ATen's vector kernels, oneDNN, MKL, OpenBLAS (which
numpy, scipy and faiss use), faiss's own SIMD code, OpenCV's and numpy's
dispatched loops limited to AVX2 (:data:`KERNEL_SETTINGS`; onnxruntime,
used by the ONNX export tests, has no such switch). ``--kernels default``
also takes ATen's vector kernels away. ``native`` (the default) leaves the
environment as it is. ``make test KERNELS=avx2`` passes it on.

pytest exits with code 5 when it collects nothing, which a CI script could
mistake for "nothing failed". Here a run in which no pass collected a test
is an error.
"""
import importlib.util
import os
import subprocess
import sys
from typing import List, Optional, Tuple

NO_TESTS_COLLECTED = 5
#: The slowest tests of pass 1 listed at its end, to keep the ``slow``
#: markers (which order the run, ``tests/conftest.py``) up to date.
DURATIONS = 25
#: The markers of the tests that run one at a time (pass 2).
SERIAL_MARKERS = 'dist'
#: The libraries' CPU kernels limited to AVX2 (no AVX-512). numpy 2's
#: run-time targets above AVX2 are X86_V4, AVX512_ICL and AVX512_SPR; naming
#: one the CPU lacks is ignored. FAISS_SIMD_LEVEL must be upper case.
AVX2_LIMITS = dict(
    ATEN_CPU_CAPABILITY='avx2',
    ONEDNN_MAX_CPU_ISA='AVX2',
    MKL_ENABLE_INSTRUCTIONS='AVX2',
    OPENBLAS_CORETYPE='Haswell',
    FAISS_SIMD_LEVEL='AVX2',
    OPENCV_CPU_DISABLE='AVX512-SKX',
    NPY_DISABLE_CPU_FEATURES='X86_V4 AVX512_ICL AVX512_SPR')
#: The environment of each ``--kernels`` setting.
KERNEL_SETTINGS = {
    'native': {},
    'avx2': AVX2_LIMITS,
    'default': dict(AVX2_LIMITS, ATEN_CPU_CAPABILITY='default'),
}
PYTEST = [sys.executable, '-m', 'pytest', 'tests', '-q', '-ra',
          '-p', 'no:cacheprovider']


def take_option(args: List[str], flag: str,
                joined: str) -> Tuple[Optional[str], List[str]]:
    """Take an option's last value out of ``args``: ``FLAG VALUE`` or
    ``JOINEDVALUE`` (``-mEXPR``, ``--kernels=SETTING``).

    Args:
        args (list[str]): command-line arguments.
        flag (str): the option followed by its value, e.g. ``'-m'``.
        joined (str): the prefix of the option with its value attached,
            e.g. ``'-m'`` or ``'--kernels='``.

    Returns:
        tuple: The value (None if there is none) and the other arguments;
        a ``flag`` with nothing after it, or ``joined`` with nothing
        attached, stays among them.
    """
    value, rest, i = None, [], 0
    while i < len(args):
        arg = args[i]
        if arg == flag and i + 1 < len(args):
            value, i = args[i + 1], i + 2
            continue
        if arg.startswith(joined) and len(arg) > len(joined):
            value = arg[len(joined):]
        else:
            rest.append(arg)
        i += 1
    return value, rest


def split_marker(args: List[str]) -> Tuple[Optional[str], List[str]]:
    """Take the last ``-m EXPR`` (or ``-mEXPR``) out of ``args``.

    Args:
        args (list[str]): pytest arguments.

    Returns:
        tuple: The marker expression (None if there is none) and the other
        arguments.
    """
    return take_option(args, '-m', '-m')


def _narrowed(marker: Optional[str], expr: str) -> List[str]:
    return ['-m', expr if marker is None else f'({marker}) and ({expr})']


def run(command: List[str], env: Optional[dict] = None) -> int:
    """Run one pytest pass and return its exit code."""
    print('run_tests:', ' '.join(command[2:]), flush=True)
    return subprocess.run(command, env=env).returncode


def combine(codes: List[int]) -> int:
    """One exit code for the passes: the first failure, else 0 if any pass
    ran tests, else ``NO_TESTS_COLLECTED``."""
    failures = [c for c in codes if c not in (0, NO_TESTS_COLLECTED)]
    if failures:
        return failures[0]
    if all(c == NO_TESTS_COLLECTED for c in codes):
        return NO_TESTS_COLLECTED
    return 0


def split_kernels(args: List[str]) -> Tuple[dict, List[str]]:
    """Take ``--kernels SETTING`` (or ``--kernels=SETTING``) out of ``args``.

    Args:
        args (list[str]): the command-line arguments.

    Returns:
        tuple: The environment variables of the setting
        (:data:`KERNEL_SETTINGS`; none without the option) and the other
        arguments.

    Raises:
        SystemExit: the setting is missing or not one of
            :data:`KERNEL_SETTINGS`.
    """
    setting, rest = take_option(args, '--kernels', '--kernels=')
    if '--kernels' in rest or '--kernels=' in rest:
        sys.exit('run_tests: --kernels needs a setting, one of '
                 f'{sorted(KERNEL_SETTINGS)}')
    setting = 'native' if setting is None else setting
    if setting not in KERNEL_SETTINGS:
        sys.exit(f'run_tests: --kernels {setting!r}: expected one of '
                 f'{sorted(KERNEL_SETTINGS)}')
    return dict(KERNEL_SETTINGS[setting]), rest


def main(argv: Optional[List[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    serial = '--serial' in args
    args = [a for a in args if a != '--serial']
    limits, args = split_kernels(args)
    if limits:
        print('run_tests: kernels limited by ' +
              ' '.join(f'{k}={v!r}' for k, v in limits.items()), flush=True)
    env = dict(os.environ, **limits)
    if serial or importlib.util.find_spec('xdist') is None:
        codes = [run(PYTEST + args, env)]
    else:
        marker, rest = split_marker(args)
        xdist_env = dict(env)
        for name in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
            xdist_env.setdefault(name, '1')
        codes = [
            run(PYTEST + ['-n', 'auto', '--dist', 'worksteal',
                          f'--durations={DURATIONS}'] +
                _narrowed(marker, f'not ({SERIAL_MARKERS})') + rest,
                xdist_env),
            run(PYTEST + _narrowed(marker, SERIAL_MARKERS) + rest, env),
        ]
    code = combine(codes)
    if code == NO_TESTS_COLLECTED:
        print('run_tests: pytest collected no test: failing', file=sys.stderr)
        return 1
    return code


if __name__ == '__main__':
    sys.exit(main())
