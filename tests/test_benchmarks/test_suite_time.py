"""benchmarks/suite_time.py on a stand-in repository whose Makefile prints
what the real steps print: every commit gets a worktree of its own, each
step is timed with its result, and the slower kind's times are estimated
from the reference commit's ratio."""
import json
import subprocess

import pytest

from tiny_cluster_contrast import REPO_ROOT, load_script

script = load_script(REPO_ROOT / 'benchmarks' / 'suite_time.py',
                     'suite_time_benchmark')

MAKEFILE = '''\
venv:
\tmkdir -p .venv && printf 1234 > .venv/python
test:
\t@echo "$(RESULT)"
\t@echo "===== 2 passed, 1 skipped, 1517 deselected in 112.72s (0:01:52) ====="
\t@test "$(RESULT)" = "5 passed, 3 warnings in 1.0s"
demo:
\t@echo "| model                    |   mAP  | rank-1 |"
\t@echo "| untrained                |  20.82 |  34.46 |"
\t@echo "| ClusterContrast (30 ep)  |  $(MAP) |  78.38 |"
'''


def _commit(repo, result, map_):
    makefile = MAKEFILE.replace('$(RESULT)', result).replace('$(MAP)', map_)
    (repo / 'Makefile').write_text(makefile)
    subprocess.run(['git', 'add', 'Makefile'], cwd=repo, check=True)
    subprocess.run(['git', '-c', 'user.name=t', '-c', 'user.email=t@t',
                    'commit', '-qm', result], cwd=repo, check=True)
    return subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=repo, check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path):
    repo = tmp_path / 'repo'
    repo.mkdir()
    subprocess.run(['git', 'init', '-q'], cwd=repo, check=True)
    return repo


def test_pytest_counts_sum_the_passes_without_deselected():
    output = ('run_tests: ...\n'
              '1 failed, 884 passed, 6 warnings in 1466.00s (0:24:26)\n'
              '=== 22 passed, 1517 deselected in 112.72s (0:01:52) ===\n'
              '= 1 error in 2.0s =\n'
              'a line that says 3 passed in 2.0s is not a summary\n')
    assert script.pytest_counts(output) == dict(
        failed=1, passed=906, errors=1)
    assert script.pytest_counts('no summary') == {}


def test_demo_map_is_the_last_row_s():
    table = ('| model | mAP | rank-1 |\n|---|---|---|\n'
             '| before training | 20.85 | 34.0 |\n'
             '| ClusterContrast (10 ep) | 68.41 | 80.1 |\n'
             'demo wall time: 1.6 min\n')
    assert script.demo_map(table) == 68.41
    assert script.demo_map('| untrained | 20.85 | 34.0 |') is None


def test_two_commits_timed_in_worktrees_with_estimates(repo, tmp_path,
                                                        monkeypatch):
    old = _commit(repo, '1 failed, 4 passed in 9.0s', '62.07')
    new = _commit(repo, '5 passed, 3 warnings in 1.0s', '81.01')
    monkeypatch.setattr(script, 'SLOWER_KIND_SECONDS',
                        {old[:7]: dict(test=100.0, demo=50.0)})
    out = tmp_path / 'report.json'
    report = script.main([
        '--repo', str(repo), '--commits', old[:7], 'HEAD', '--workdir',
        str(tmp_path / 'work'), '--out', str(out), '--kernels', 'avx2'
    ])
    assert json.loads(out.read_text()) == report
    first, second = report['runs']
    assert (first['commit'], second['commit']) == (old, new)
    assert second['revision'] == 'HEAD'
    venv, test, demo = first['steps']
    assert venv['exit_code'] == 0 and venv['venv_bytes'] == 4
    assert test['exit_code'] != 0  # the failed test fails the step
    assert test['counts'] == dict(failed=1, passed=6, skipped=1)
    assert demo['map'] == 62.07
    assert second['steps'][1]['exit_code'] == 0
    assert second['steps'][1]['counts'] == dict(passed=7, skipped=1)
    assert second['steps'][2]['map'] == 81.01
    # The slower kind's seconds: the reference's, and the others' by ratio.
    ratio = 100.0 / test['seconds']
    estimate = report['estimates']['test']
    assert estimate['reference'] == old[:12]
    assert estimate['ratio'] == pytest.approx(ratio, rel=1e-3)
    assert estimate[new[:12]] == pytest.approx(
        second['steps'][1]['seconds'] * ratio, abs=0.1)
    assert 'venv' not in report['estimates']
    assert report['machine']['kernel_limits']['ATEN_CPU_CAPABILITY'] == 'avx2'
    # The worktrees are gone; the logs stay.
    listed = subprocess.run(['git', 'worktree', 'list'], cwd=repo,
                            capture_output=True, text=True).stdout
    assert len(listed.splitlines()) == 1
    assert (tmp_path / 'work' / f'{new[:12]}_demo.log').is_file()
    rows = out.with_suffix('.md').read_text().splitlines()
    assert len(rows) == 2 + 6
    assert '(measured)' in rows[3] and f'est. x{estimate["ratio"]}' in rows[6]


def test_an_unknown_commit_is_named(repo, tmp_path):
    _commit(repo, '5 passed, 3 warnings in 1.0s', '81.01')
    with pytest.raises(SystemExit, match="'nosuchrev' is not a commit"):
        script.main(['--repo', str(repo), '--commits', 'nosuchrev',
                     '--workdir', str(tmp_path / 'work'), '--out',
                     str(tmp_path / 'r.json')])
