"""The tiny recipes' helpers (``tests/tiny_configs.py``): every run they
configure logs to a file of its own, even two started in one second."""
import time
from pathlib import Path

from mmreid_unsup.engine import build_runner
from tiny_cluster_contrast import tiny_cfg
from tiny_scl import tiny_scl_cfg


def test_runs_started_in_one_second_log_to_files_of_their_own(
        tiny_synthetic_root, tmp_path, monkeypatch):
    # MMEngine names a run's logger after its experiment and the second it
    # starts; with one clock second for all, only the experiment differs.
    frozen = time.time()
    monkeypatch.setattr(time, 'time', lambda: frozen)
    runners = [
        build_runner(make(tiny_synthetic_root, tmp_path / f'{name}{i}'))
        for name, make in (('scl', tiny_scl_cfg), ('cc', tiny_cfg))
        for i in range(2)
    ]
    assert len({runner.timestamp for runner in runners}) == 1
    for runner in runners:
        runner.logger.info('a line of its own')
    for runner in runners:
        log, = Path(runner.log_dir).glob('*.log')
        assert 'a line of its own' in log.read_text()
