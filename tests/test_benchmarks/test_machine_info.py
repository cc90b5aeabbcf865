"""benchmarks/machine_info.py: the CPU and the kernel limits a benchmark ran
under are recorded with its figures."""
import pytest

from tiny_cluster_contrast import REPO_ROOT, load_script


@pytest.fixture(scope='module')
def machine_info():
    return load_script(REPO_ROOT / 'benchmarks' / 'machine_info.py',
                       'machine_info_benchmark')


def test_only_the_limits_that_are_set_are_recorded(machine_info,
                                                    monkeypatch):
    for name in machine_info.KERNEL_LIMITS:
        monkeypatch.delenv(name, raising=False)
    assert machine_info.kernel_limits() == {}
    monkeypatch.setenv('ATEN_CPU_CAPABILITY', 'avx2')
    monkeypatch.setenv('OPENBLAS_CORETYPE', 'Haswell')
    monkeypatch.setenv('UNRELATED_VARIABLE', '1')
    assert machine_info.kernel_limits() == dict(
        ATEN_CPU_CAPABILITY='avx2', OPENBLAS_CORETYPE='Haswell')
    record = machine_info.machine()
    assert record['kernel_limits'] == machine_info.kernel_limits()
    assert record['cpu']['model'] and record['cpus'] >= 1


def test_every_limit_run_tests_sets_is_recorded(machine_info):
    run_tests = load_script(REPO_ROOT / 'tools' / 'run_tests.py',
                            'run_tests_tool')
    for setting in run_tests.KERNEL_SETTINGS.values():
        assert set(setting) <= set(machine_info.KERNEL_LIMITS)
    assert set(run_tests.AVX2_LIMITS) == set(machine_info.KERNEL_LIMITS)
