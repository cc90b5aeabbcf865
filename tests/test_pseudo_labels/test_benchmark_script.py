"""benchmarks/pseudo_labels.py runs end to end on a tiny size."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_benchmark_runs_and_writes_json(tmp_path):
    out = tmp_path / 'bench.json'
    proc = subprocess.run([
        sys.executable,
        str(REPO_ROOT / 'benchmarks' / 'pseudo_labels.py'), '--sizes', '400',
        '--dim', '32', '--out',
        str(out)
    ],
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    sparse, dense = report['results']
    assert (sparse['method'], dense['method']) == ('sparse', 'dense')
    assert sparse['num_samples'] == 400 and sparse['num_ids'] == 25
    # Same labels, so the same scores against the planted identities.
    assert sparse['labels_identical_to_dense'] is True
    assert sparse['ari_vs_dense'] == 1.0
    assert sparse['ari'] == dense['ari'] and 0 < sparse['ari'] <= 1
    for stage in ('knn', 'encoding', 'jaccard', 'dbscan'):
        assert sparse[f'time_{stage}'] >= 0
        assert sparse[f'peak_mem_{stage}'] > 0
    assert '| 400 | sparse |' in proc.stdout


@pytest.mark.slow
@pytest.mark.dist
def test_benchmark_splits_the_labelling_over_gloo_ranks(tmp_path):
    out = tmp_path / 'bench.json'
    proc = subprocess.run([
        sys.executable,
        str(REPO_ROOT / 'benchmarks' / 'pseudo_labels.py'), '--sizes', '400',
        '--dim', '32', '--no-dense', '--world-sizes', '1', '2', '--out',
        str(out)
    ],
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    single, split = json.loads(out.read_text())['results']
    assert (single['world_size'], split['world_size']) == (1, 2)
    assert split['labels_identical_to_single_process'] is True
    assert split['num_clusters'] == single['num_clusters']
    assert len(split['peak_rss_mb_per_rank']) == 2
    for stage in ('knn', 'encoding', 'jaccard', 'dbscan'):
        assert split[f'time_{stage}'] >= 0
    assert '| 400 | sparse | 2 |' in proc.stdout
    assert proc.stdout.rstrip().splitlines()[-2].endswith('| identical |')
