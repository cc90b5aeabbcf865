"""benchmarks/pseudo_labels.py runs end to end on a tiny size; a run with
the approximate kNN backend records what it searched with, and
``--compare-exact``'s comparison and table columns; ``--anchor-dir`` runs a
Cluster-Contrast checkout (a stand-in built here) and compares with it."""
import hashlib
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

#: A stand-in for the published ``faiss_rerank.py``: it records how it was
#: called and computes the dense Jaccard distance with this package.
FAKE_FAISS_RERANK = '''
CALLS = []


def compute_jaccard_distance(target_features, k1=20, k2=6, print_flag=True,
                             search_option=0, use_float16=False):
    CALLS.append(dict(k1=k1, k2=k2, print_flag=print_flag,
                      search_option=search_option))
    from mmreid_unsup.ops.jaccard_distance import compute_jaccard_distance
    return compute_jaccard_distance(target_features, k1, k2, backend='torch')
'''


def make_checkout(root: Path) -> Path:
    """A directory laid out like a Cluster-Contrast checkout, under
    ``root``, with :data:`FAKE_FAISS_RERANK` as its module."""
    package = root / 'cluster-contrast-reid' / 'clustercontrast'
    (package / 'utils').mkdir(parents=True)
    (package / '__init__.py').write_text('')
    (package / 'utils' / '__init__.py').write_text('')
    (package / 'utils' / 'faiss_rerank.py').write_text(FAKE_FAISS_RERANK)
    return package.parent



@pytest.mark.slow
def test_benchmark_runs_and_writes_json(tmp_path):
    out = tmp_path / 'bench.json'
    proc = subprocess.run([
        sys.executable,
        str(REPO_ROOT / 'benchmarks' / 'pseudo_labels.py'), '--sizes', '400',
        '--dim', '32', '--anchor-dir',
        str(make_checkout(tmp_path)), '--out',
        str(out)
    ],
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    sparse, anchor, dense = report['results']
    assert (sparse['method'], anchor['method'],
            dense['method']) == ('sparse', 'anchor', 'dense')
    # The stand-in checkout computes the dense reference's labels.
    assert sparse['labels_identical_to_anchor'] is True
    assert anchor['anchor_module'].startswith(str(tmp_path))
    assert 'anchor: the published Cluster-Contrast' in report['description']
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
    # The CPU and any kernel limits are recorded with the figures.
    assert report['machine']['cpu']['model']
    assert isinstance(report['machine']['kernel_limits'], dict)


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
    assert table.splitlines()[3].endswith('| - | 1.0000 | - |')


def test_auto_is_recorded_as_what_it_resolved_to(script, monkeypatch):
    monkeypatch.setattr(knn, 'faiss_gpu_count', lambda: 0)
    monkeypatch.setattr(knn, 'fast_bfloat16_matmul', lambda device: False)
    feats = torch.nn.functional.normalize(torch.randn(30, 4), dim=1)
    assert script.resolved_backend('auto', feats) == 'torch'
    assert script.parse_backend('torch') == 'torch'
    assert script.parse_backend('{"type": "faiss_hnsw", "m": 16}') == dict(
        type='faiss_hnsw', m=16)




@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A directory laid out like a Cluster-Contrast checkout; its package is
    dropped from ``sys.modules`` and ``sys.path`` afterwards."""
    root = make_checkout(tmp_path)
    monkeypatch.setattr(sys, 'path', list(sys.path))
    for name in [n for n in sys.modules if n.startswith('clustercontrast')]:
        monkeypatch.delitem(sys.modules, name)
    yield root
    for name in [n for n in sys.modules if n.startswith('clustercontrast')]:
        del sys.modules[name]


def test_anchor_dir_without_the_module_is_named(script, tmp_path):
    with pytest.raises(FileNotFoundError,
                       match='clustercontrast/utils/faiss_rerank.py'):
        script.load_compute_jaccard_distance(str(tmp_path))


def test_main_refuses_a_wrong_anchor_dir_before_running(
        script, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, 'argv', [
        'pseudo_labels.py', '--sizes', '100', '--anchor-dir',
        str(tmp_path), '--out', str(tmp_path / 'out.json')
    ])
    with pytest.raises(SystemExit) as exit_info:
        script.main()
    assert exit_info.value.code == 2
    assert f'--anchor-dir {tmp_path}' in capsys.readouterr().err
    assert not (tmp_path / 'out.json').exists()


def test_anchor_run_calls_the_checkout_and_compares_labels(
        script, checkout, tmp_path):
    sparse = script.run_one(300, 64, 0, True, str(tmp_path / 'sparse.npy'),
                            'torch')
    anchor = script.run_anchor(300, 64, 0, str(tmp_path / 'anchor.npy'),
                               str(checkout))
    rerank = sys.modules['clustercontrast.utils.faiss_rerank']
    # Cluster-Contrast's defaults, its CPU search, no printing.
    assert rerank.CALLS == [
        dict(k1=30, k2=6, print_flag=False, search_option=3)
    ]
    assert anchor['method'] == 'anchor'
    assert anchor['anchor_module'] == str(
        checkout.resolve() / 'clustercontrast' / 'utils' / 'faiss_rerank.py')
    assert anchor['time_knn'] is None and anchor['time_jaccard'] > 0
    assert anchor['time_total'] == pytest.approx(anchor['time_jaccard'] +
                                                 anchor['time_dbscan'])
    assert anchor['num_clusters'] == sparse['num_clusters'] > 1

    script.compare_with_anchor(sparse, anchor, str(tmp_path / 'sparse.npy'),
                               str(tmp_path / 'anchor.npy'))
    assert sparse['labels_identical_to_anchor'] is True
    assert sparse['ari_vs_anchor'] == 1.0
    assert sparse['speedup_vs_anchor'] == pytest.approx(
        anchor['time_total'] / sparse['time_total'])
    table = script.format_table([sparse, anchor])
    assert 'identical labels' in table
    anchor_row = [line for line in table.splitlines()
                  if line.startswith('| 300 | anchor (')]
    # No kNN, encoding or after-kNN time of its own.
    assert len(anchor_row) == 1 and '| 1 | - | - |' in anchor_row[0]
    assert anchor['faiss_threads'] >= 1
    assert anchor['anchor_sha256'] == hashlib.sha256(
        FAKE_FAISS_RERANK.encode()).hexdigest()

    # Different labels are reported as such, with their agreement.
    labels = np.load(tmp_path / 'anchor.npy')
    labels[labels == 0] = 1  # two clusters merged
    np.save(tmp_path / 'anchor.npy', labels)
    script.compare_with_anchor(sparse, anchor, str(tmp_path / 'sparse.npy'),
                               str(tmp_path / 'anchor.npy'))
    assert sparse['labels_identical_to_anchor'] is False
    assert sparse['ari_vs_anchor'] < 1.0
    assert 'ARI 0.' in script.format_table([sparse])


def test_a_failing_published_code_stops_before_the_other_runs(
        script, tmp_path, monkeypatch):
    calls = []

    def fake_run(num, dim, seed, sparse, labels_path, knn_backend='auto',
                 threads=None, anchor_dir=None):
        calls.append(anchor_dir)
        return dict(num_samples=num, method='anchor',
                    error='ModuleNotFoundError: torchvision')

    monkeypatch.setattr(script, 'run_in_subprocess', fake_run)
    monkeypatch.setattr(sys, 'argv', [
        'pseudo_labels.py', '--sizes', '100', '--anchor-dir',
        str(make_checkout(tmp_path)), '--out', str(tmp_path / 'out.json')
    ])
    with pytest.raises(SystemExit, match='published code failed at N=100'
                       '(.|\n)*torchvision'):
        script.main()
    assert len(calls) == 1 and calls[0] is not None
    assert not (tmp_path / 'out.json').exists()
