"""tools/run_tests.py: two passes, markers narrowed, no-test runs fail,
the CPU kernels limited on request."""

import pytest

from tiny_cluster_contrast import REPO_ROOT, load_script


@pytest.fixture
def run_tests():
    return load_script(REPO_ROOT / 'tools' / 'run_tests.py', 'run_tests_tool')


def _fake_passes(monkeypatch, run_tests, codes):
    """Replace the pytest runs; return the list of commands they got."""
    commands = []

    def fake_run(command, env=None):
        commands.append((command, env))
        return codes[len(commands) - 1]

    monkeypatch.setattr(run_tests, 'run', fake_run)
    monkeypatch.setattr(run_tests.importlib.util, 'find_spec',
                        lambda name: object())
    return commands


def _pytest_args(command):
    """What follows ``python -m pytest`` in a command."""
    return command[command.index('pytest') + 1:]


def _marker(command):
    args = _pytest_args(command)
    return args[args.index('-m') + 1]


@pytest.mark.parametrize('args, marker, rest', [
    (['-x'], None, ['-x']),
    (['-m', 'not slow', '-x'], 'not slow', ['-x']),
    (['-mfast', 'tests/a.py'], 'fast', ['tests/a.py']),
    (['-m', 'a', '-m', 'b'], 'b', []),
])
def test_split_marker(run_tests, args, marker, rest):
    assert run_tests.split_marker(args) == (marker, rest)


@pytest.mark.parametrize('codes, expected', [
    ([0, 0], 0),
    ([0, 5], 0),
    ([5, 0], 0),
    ([5, 5], 5),
    ([1, 0], 1),
    ([0, 2], 2),
    ([5, 1], 1),
])
def test_combine(run_tests, codes, expected):
    assert run_tests.combine(codes) == expected


def test_two_passes_split_by_marker(monkeypatch, run_tests):
    commands = _fake_passes(monkeypatch, run_tests, [0, 0])
    monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
    assert run_tests.main(['-m', 'not slow', '-x']) == 0
    (parallel, env), (serial, serial_env) = commands
    assert '-n' in parallel and '-n' not in serial
    assert parallel[parallel.index('--dist') + 1] == 'worksteal'
    assert _marker(parallel) == '(not slow) and (not (dist))'
    assert _marker(serial) == '(not slow) and (dist)'
    assert parallel[-1] == '-x' and serial[-1] == '-x'
    assert env['OMP_NUM_THREADS'] == '1'
    assert 'OMP_NUM_THREADS' not in serial_env


def test_a_failing_pass_fails_the_run(monkeypatch, run_tests):
    _fake_passes(monkeypatch, run_tests, [0, 1])
    assert run_tests.main([]) == 1


def test_no_test_in_any_pass_is_an_error(monkeypatch, run_tests, capsys):
    _fake_passes(monkeypatch, run_tests, [5, 5])
    assert run_tests.main([]) == 1
    assert 'collected no test' in capsys.readouterr().err


def test_serial_flag_runs_one_pass(monkeypatch, run_tests):
    commands = _fake_passes(monkeypatch, run_tests, [0])
    assert run_tests.main(['--serial', '-x']) == 0
    (command, _), = commands
    args = _pytest_args(command)
    assert '-n' not in args and '-m' not in args
    assert args[-1] == '-x'


@pytest.mark.parametrize('args', [['--kernels', 'avx2', '-x'],
                                  ['--kernels=avx2', '-x']])
def test_avx2_kernels_limit_every_library_in_both_passes(
        monkeypatch, run_tests, args):
    commands = _fake_passes(monkeypatch, run_tests, [0, 0])
    monkeypatch.setenv('ATEN_CPU_CAPABILITY', 'avx512')
    assert run_tests.main(args) == 0
    for command, env in commands:
        assert '--kernels' not in ' '.join(command)
        assert command[-1] == '-x'
        assert env['ATEN_CPU_CAPABILITY'] == 'avx2'
        assert env['ONEDNN_MAX_CPU_ISA'] == 'AVX2'
        assert env['MKL_ENABLE_INSTRUCTIONS'] == 'AVX2'
        assert env['OPENBLAS_CORETYPE'] == 'Haswell'
        assert env['FAISS_SIMD_LEVEL'] == 'AVX2'
        assert env['OPENCV_CPU_DISABLE'] == 'AVX512-SKX'
        assert 'X86_V4' in env['NPY_DISABLE_CPU_FEATURES']


def test_kernels_with_a_marker_in_two_passes(monkeypatch, run_tests):
    commands = _fake_passes(monkeypatch, run_tests, [0, 0])
    assert run_tests.main(['--kernels', 'avx2', '-m', 'not slow']) == 0
    (parallel, env), (serial, serial_env) = commands
    assert _marker(parallel) == '(not slow) and (not (dist))'
    assert _marker(serial) == '(not slow) and (dist)'
    assert env['OPENBLAS_CORETYPE'] == serial_env['OPENBLAS_CORETYPE']
    assert env['OMP_NUM_THREADS'] == '1'


def test_default_kernels_take_aten_vectors_away_too(monkeypatch, run_tests):
    commands = _fake_passes(monkeypatch, run_tests, [0])
    assert run_tests.main(['--serial', '--kernels', 'default']) == 0
    (_, env), = commands
    assert env['ATEN_CPU_CAPABILITY'] == 'default'
    assert env['OPENBLAS_CORETYPE'] == 'Haswell'


def test_native_kernels_leave_the_environment_alone(monkeypatch, run_tests):
    commands = _fake_passes(monkeypatch, run_tests, [0])
    monkeypatch.delenv('OPENBLAS_CORETYPE', raising=False)
    monkeypatch.setenv('ATEN_CPU_CAPABILITY', 'avx512')
    assert run_tests.main(['--serial', '--kernels', 'native']) == 0
    (_, env), = commands
    assert env['ATEN_CPU_CAPABILITY'] == 'avx512'
    assert 'OPENBLAS_CORETYPE' not in env


@pytest.mark.parametrize('args, message', [
    (['--kernels', 'avx512'], "'avx512': expected one of"),
    (['--kernels'], 'needs a setting'),
    (['--kernels=', '-x'], 'needs a setting'),
])
def test_unknown_kernels_are_named(monkeypatch, run_tests, args, message):
    commands = _fake_passes(monkeypatch, run_tests, [0, 0])
    with pytest.raises(SystemExit, match=message):
        run_tests.main(args)
    assert commands == []
