"""benchmarks/suite_time.py on a stand-in repository whose Makefile prints
what the real steps print: every commit gets a worktree of its own, is
installed, and each step is timed with its result in a clean environment;
the slower kind's times are estimated from the reference commit's ratio."""
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
\t@echo "env: $$ATEN_CPU_CAPABILITY $$MMREID_SHARED_DIR [$$PYTEST_ADDOPTS]"
\t@echo "$(RESULT)"
\t@echo "$(SECOND)"
\t@test "$(RESULT)" = "5 passed, 3 warnings in 1.0s"
demo:
\t@echo "| model                    |   mAP  | rank-1 |"
\t@echo "| before training          |  20.82 |  34.46 |"
\t@echo "| ClusterContrast (30 ep)  |  $(MAP) |  78.38 |"
'''


#: The summary of the stand-in's second pass.
SECOND = '=== 2 passed, 1 skipped, 1517 deselected in 112.72s (0:01:52) ==='


def _commit(repo, result, map_, second=SECOND):
    makefile = MAKEFILE.replace('$(RESULT)', result).replace(
        '$(MAP)', map_).replace('$(SECOND)', second)
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


def test_pytest_summary_sums_the_passes_without_deselected():
    output = ('run_tests: ...\n'
              '1 failed, 884 passed, 6 warnings in 1466.00s (0:24:26)\n'
              '=== 22 passed, 1517 deselected in 112.72s (0:01:52) ===\n'
              '= 1 error, 2 subtests passed in 2.0s =\n'
              'a line that says 3 passed in 2.0s is not a summary\n'
              '3 passed in 2.0s, then more words, is not one either\n')
    counts, seconds = script.pytest_summary(output)
    assert counts == {
        'failed': 1, 'passed': 906, 'errors': 1, 'subtests passed': 2}
    assert seconds == pytest.approx(1466 + 112.72 + 2)
    assert script.pytest_summary('no summary') == ({}, 0.0)


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
                        {old[:7]: dict(test=243.44, demo=50.0)})
    # What the caller's environment must not pass on to the steps.
    for name, value in dict(PYTEST_ADDOPTS='-x', MAKEFLAGS='RESULT=x',
                            ATEN_CPU_CAPABILITY='default').items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # a relative --workdir is the caller's
    out = tmp_path / 'report.json'
    report = script.main([
        '--repo', str(repo), '--commits', old[:7], 'HEAD', '--workdir',
        'work', '--out', str(out), '--kernels', 'avx2', '--shared',
        str(tmp_path / 'shared')
    ])
    assert json.loads(out.read_text()) == report
    first, second = report['runs']
    assert (first['commit'], second['commit']) == (old, new)
    assert (first['revision'], second['revision']) == (old[:7], 'HEAD')
    venv, test, demo = first['steps']
    assert venv['exit_code'] == 0 and venv['venv_bytes'] == 4
    assert test['exit_code'] != 0  # the failed test fails the step
    assert test['counts'] == dict(failed=1, passed=6, skipped=1)
    assert test['pytest_seconds'] == pytest.approx(121.72)
    assert demo['map'] == 62.07
    assert all(s['cpu_seconds'] >= 0 for s in first['steps'])
    assert second['steps'][1]['exit_code'] == 0
    assert second['steps'][1]['counts'] == dict(passed=7, skipped=1)
    assert second['steps'][2]['map'] == 81.01
    log = tmp_path / 'work' / f'1-{new[:12]}_test.log'
    assert f'env: avx2 {tmp_path / "shared"} []' in log.read_text()
    assert report['machine']['kernel_limits']['ATEN_CPU_CAPABILITY'] == 'avx2'
    # The slower kind: the reference's recorded seconds, the others' by the
    # ratio of the reference's pytest seconds (test) or wall time (demo).
    ratios = report['ratios']
    assert ratios['test'] == dict(reference=old, ratio=2.0)
    assert ratios['demo']['ratio'] == pytest.approx(
        50.0 / demo['seconds'], rel=1e-3)
    assert 'venv' not in ratios
    assert (test['slower_kind'], test['slower_kind_seconds']) == (
        'recorded', 243.44)
    new_test = second['steps'][1]
    assert new_test['slower_kind'] == 'estimated'
    assert new_test['slower_kind_seconds'] == pytest.approx(
        2.0 * new_test['seconds'], abs=0.1)
    assert 'slower_kind' not in second['steps'][0]
    # The worktrees are gone; the logs stay.
    listed = subprocess.run(['git', 'worktree', 'list'], cwd=repo,
                            capture_output=True, text=True).stdout
    assert len(listed.splitlines()) == 1
    rows = out.with_suffix('.md').read_text().splitlines()
    assert len(rows) == 2 + 6
    assert '(recorded)' in rows[3] and '(x2.0)' in rows[6]


def test_no_estimate_from_a_reference_that_did_not_run(repo, tmp_path,
                                                       monkeypatch):
    # make test printed no pytest summary and the demo failed: no ratio.
    old = _commit(repo, 'no tests ran', 'x', second='')
    monkeypatch.setattr(script, 'SLOWER_KIND_SECONDS',
                        {old[:7]: dict(test=100.0, demo=50.0)})
    report = script.main(['--repo', str(repo), '--commits', old, old,
                          '--workdir', str(tmp_path / 'work'), '--out',
                          str(tmp_path / 'r.json')])
    assert report['ratios'] == {}
    assert [r['commit'] for r in report['runs']] == [old, old]
    assert not any('slower_kind' in s for r in report['runs']
                   for s in r['steps'])


def test_a_kept_worktree_is_not_overwritten(repo, tmp_path):
    _commit(repo, '5 passed, 3 warnings in 1.0s', '81.01')
    args = ['--repo', str(repo), '--commits', 'HEAD', '--steps', 'test',
            '--workdir', str(tmp_path / 'work'), '--out',
            str(tmp_path / 'r.json'), '--keep']
    report = script.main(args)
    assert [s['step'] for s in report['runs'][0]['steps']] == [
        'venv', 'test']
    with pytest.raises(SystemExit, match='exists'):
        script.main(args)


def test_an_unknown_commit_is_named_before_anything_runs(repo, tmp_path):
    _commit(repo, '5 passed, 3 warnings in 1.0s', '81.01')
    with pytest.raises(SystemExit, match="'nosuchrev' is not a commit"):
        script.main(['--repo', str(repo), '--commits', 'HEAD', 'nosuchrev',
                     '--workdir', str(tmp_path / 'work'), '--out',
                     str(tmp_path / 'r.json')])
    assert not (tmp_path / 'work').exists()
