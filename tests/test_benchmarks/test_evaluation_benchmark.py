"""benchmarks/evaluation.py: its two per-query references agree with the
ranking on a small generated problem, and its report checks them."""
import pytest

from mmreid_unsup.evaluation.functional import evaluate_rank_from_features
from tiny_cluster_contrast import REPO_ROOT, load_script


@pytest.fixture(scope='module')
def script():
    return load_script(REPO_ROOT / 'benchmarks' / 'evaluation.py',
                       'evaluation_benchmark')


def test_references_equal_the_ranking(script):
    q_feats, q_pids, q_cams, g_feats, g_pids, g_cams = script.generate(
        'smoke', dim=16, noise=1.0)
    expected = evaluate_rank_from_features(q_feats, g_feats, q_pids, g_pids,
                                           q_cams, g_cams)
    distmat = script.dense_distances(q_feats, g_feats)
    labels = [t.numpy() for t in (q_pids, g_pids, q_cams, g_cams)]
    plain = script.numpy_per_query(distmat, *labels)
    with_sklearn = script.sklearn_ap(distmat, *labels)
    for key, value in plain.items():
        assert value == pytest.approx(expected[key], abs=1e-6), key
        assert with_sklearn[key] == pytest.approx(value, abs=1e-6), key


def test_report_checks_agreement_and_prints_both_tables(script):
    scores = dict(mAP=50.0, rank1=90.0, rank5=95.0, rank10=99.0, mINP=5.0)
    runs = dict(
        reidmetric=dict(seconds=1.0, peak_mb=10.0, scores=dict(scores)),
        numpy_per_query=dict(seconds=4.0, peak_mb=30.0, scores=dict(scores)),
        sklearn_ap=dict(
            seconds=8.0, peak_mb=30.0, scores=dict(scores, mAP=50.1)))
    script.check_agreement('smoke', runs)
    assert runs['numpy_per_query']['speedup_of_reidmetric'] == 4.0
    assert runs['sklearn_ap']['mAP_minus_reidmetric'] == pytest.approx(0.1)
    text = script.table(dict(smoke=runs))
    assert '| smoke (200 x 1,000) | 1.0 s, 10 MB | 4.0 s, 30 MB |' in text
    assert '| smoke | sklearn AP (Cluster-Contrast) | 50.1000 |' in text
    runs['numpy_per_query']['scores']['mINP'] = 5.1
    with pytest.raises(AssertionError, match='mINP differs'):
        script.check_agreement('smoke', runs)
