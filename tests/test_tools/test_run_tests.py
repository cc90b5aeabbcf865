"""tools/run_tests.py: two passes, markers narrowed, no-test runs fail."""

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
    assert env['OMP_NUM_THREADS'] == '1' and serial_env is None


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
