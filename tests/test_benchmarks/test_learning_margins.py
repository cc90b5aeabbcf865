"""benchmarks/learning_margins.py on a stand-in learning test: its checks
reach the JUnit XML, and every run of every seed and kernel setting is
summarised per check."""
import json
import textwrap

import numpy as np
import pytest

from learning_checks import SEED_ENV, LearningChecks, learning_seed
from tiny_cluster_contrast import REPO_ROOT, load_script

script = load_script(REPO_ROOT / 'benchmarks' / 'learning_margins.py',
                     'learning_margins_benchmark')

# A learning test in miniature: its "gain" is the seed, its ARI fixed.
STAND_IN = '''
from learning_checks import LearningChecks, learning_seed


def test_learns(record_property):
    checks = LearningChecks(record_property)
    checks.gain('reid/mAP', {'reid/mAP': 10.0},
                {'reid/mAP': 10.0 + learning_seed()}, 0.5)
    checks.above('pseudo-label ARI', 0.4, 0.2)
    checks.verify()
'''


def test_checks_record_every_value_then_fail_on_all_that_missed():
    recorded = []
    checks = LearningChecks(lambda name, value: recorded.append(
        (name, value)))
    checks.gain('reid/mAP', {'reid/mAP': 10.0}, {'reid/mAP': 12.0}, 5)
    checks.above('pseudo-label ARI', 0.3, 0.2)
    checks.above('pair precision gain', 0.0, 0)
    checks.record('first pair precision', np.float64(0.5))
    assert recorded == [('reid/mAP gain', 2.0),
                        ('reid/mAP gain threshold', 5.0),
                        ('pseudo-label ARI', 0.3),
                        ('pseudo-label ARI threshold', 0.2),
                        ('pair precision gain', 0.0),
                        ('pair precision gain threshold', 0.0),
                        ('first pair precision', 0.5)]
    assert all(type(value) is float for _, value in recorded)
    with pytest.raises(AssertionError) as error:
        checks.verify()
    assert str(error.value).startswith(
        'reid/mAP gain 2 <= 5; pair precision gain 0 <= 0')


def test_seed_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(SEED_ENV, raising=False)
    assert learning_seed() == 0
    monkeypatch.setenv(SEED_ENV, '2')
    assert learning_seed() == 2
    monkeypatch.setenv(SEED_ENV, 'two')
    with pytest.raises(ValueError, match="MMREID_TEST_SEED='two'"):
        learning_seed()


def test_margins_over_seeds_and_kernels(tmp_path, monkeypatch):
    test_file = tmp_path / 'test_stand_in.py'
    test_file.write_text(textwrap.dedent(STAND_IN))
    # The stand-in imports learning_checks from tests/.
    monkeypatch.setenv('PYTHONPATH', str(REPO_ROOT / 'tests'))
    out = tmp_path / 'margins.json'
    result = script.main([
        '--seeds', '0', '1', '--kernels', 'native', 'default',
        '--workers', '1', '--jobs', '2', '--tests', str(test_file), '--out',
        str(out)
    ])
    assert json.loads(out.read_text()) == json.loads(json.dumps(result))
    runs = result['runs']
    assert [(r['kernels'], r['seed'], r['passed']) for r in runs] == [
        ('native', 0, False), ('native', 1, True),
        ('default', 0, False), ('default', 1, True)]
    assert all(r['seconds'] >= 0 for r in runs)
    summary = {row['check']: row for row in result['summary']}
    assert set(summary) == {'reid/mAP gain', 'pseudo-label ARI'}
    gain = summary['reid/mAP gain']
    assert (gain['runs'], gain['min'], gain['max'], gain['failed']) == (
        4, 0.0, 1.0, 2)
    assert gain['margin'] == pytest.approx(-0.5)
    assert summary['pseudo-label ARI']['margin'] == pytest.approx(0.2)
    assert '| pseudo-label ARI | 0.2 | 4 |' in out.with_suffix(
        '.md').read_text()


def test_a_changed_threshold_gets_its_own_row():
    runs = [
        dict(test='t::learns', kernels='native', seed=seed,
             checks={'reid/mAP gain': dict(value=value, threshold=threshold)})
        for seed, value, threshold in ((0, 7.0, 8.0), (1, 9.0, 6.0),
                                       (2, 12.0, 6.0))
    ]
    rows = [(r['threshold'], r['runs'], r['min'], r['failed'])
            for r in script.summarise(runs)]
    assert rows == [(8.0, 1, 7.0, 1), (6.0, 2, 9.0, 0)]
