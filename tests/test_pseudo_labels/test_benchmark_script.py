"""benchmarks/pseudo_labels.py runs end to end on a tiny size; a run with
the approximate kNN backend records what it searched with, and
``--compare-exact``'s comparison and table columns."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from mmreid_unsup.ops import is_faiss_available, knn
from tiny_cluster_contrast import load_script

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
    # Each row names the kNN backend it searched with ('auto' resolved).
    assert dense['knn_backend'] == 'torch'
    assert sparse['knn_backend'] in ('torch', 'torch_bf16', 'faiss')
    assert f"| 400 | sparse ({sparse['knn_backend']}) |" in proc.stdout


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
    row = f"| 400 | sparse ({split['knn_backend']}) | 2 |"
    assert any(line.startswith(row) and '| identical |' in line
               for line in proc.stdout.splitlines())


@pytest.fixture(scope='module')
def script():
    return load_script(REPO_ROOT / 'benchmarks' / 'pseudo_labels.py',
                       'pseudo_labels_benchmark')


@pytest.mark.skipif(not is_faiss_available(), reason='needs faiss')
def test_approximate_run_against_exact(script, tmp_path):
    paths = {name: str(tmp_path / f'{name}.npy') for name in ('hnsw', 'ex')}
    run = script.run_one(640, 32, 0, True, paths['hnsw'],
                         '{"type": "faiss_hnsw", "ef_search": 48}')
    exact = script.run_one(640, 32, 0, True, paths['ex'], 'torch')
    assert run['knn_backend'] == '{"ef_search": 48, "type": "faiss_hnsw"}'
    assert exact['knn_backend'] == 'torch'
    assert run['num_samples'] == 640 and run['num_ids'] == 40
    script.compare_with_exact(run, exact, paths['hnsw'], paths['ex'])
    assert run['ari_vs_exact'] >= 0.98 and exact['ari_vs_exact'] == 1.0
    assert run['labels_identical_to_exact'] == bool(
        (np.load(paths['hnsw']) == np.load(paths['ex'])).all())
    assert run['knn_speedup_vs_exact'] > 0
    table = script.format_table([run, exact])
    assert 'ARI vs exact |' in table.splitlines()[0]
    assert '| 640 | sparse (torch) |' in table
    assert table.splitlines()[3].endswith('| - | 1.0000 |')


def test_auto_is_recorded_as_what_it_resolved_to(script, monkeypatch):
    monkeypatch.setattr(knn, 'faiss_gpu_count', lambda: 0)
    monkeypatch.setattr(knn, 'fast_bfloat16_matmul', lambda device: False)
    feats = torch.nn.functional.normalize(torch.randn(30, 4), dim=1)
    assert script.resolved_backend('auto', feats) == 'torch'
    assert script.parse_backend('torch') == 'torch'
    assert script.parse_backend('{"type": "faiss_hnsw", "m": 16}') == dict(
        type='faiss_hnsw', m=16)
