"""Ranking by the k-reciprocal re-ranked distance: the evaluation's
``rerank`` option and the metric's switch."""
import pytest
import torch
from ranking_reference import reference_scores
from rerank_reference import clustered_features

from mmreid_unsup.evaluation import ReIDMetric
from mmreid_unsup.evaluation.functional import (evaluate_rank,
                                                evaluate_rank_from_features)
from mmreid_unsup.ops import k_reciprocal_rerank
from mmreid_unsup.structures import ReIDDataSample


def test_rerank_option_of_the_evaluation():
    q, g, q_pids, g_pids = clustered_features(3)
    q_cams, g_cams = torch.zeros(12, dtype=torch.long), torch.ones(
        40, dtype=torch.long)
    rerank = dict(k1=8, k2=3, lambda_value=0.3)
    expected = evaluate_rank(
        k_reciprocal_rerank(q, g, **rerank), q_pids, g_pids, q_cams, g_cams)
    got = evaluate_rank_from_features(
        q, g, q_pids, g_pids, q_cams, g_cams, rerank=rerank, chunk_size=4)
    assert got == expected
    plain = evaluate_rank_from_features(q, g, q_pids, g_pids, q_cams, g_cams)
    assert got['mAP'] != plain['mAP']


def test_metric_rerank_switch():
    q, g, q_pids, g_pids = clustered_features(4)
    samples = []
    for feats, pids, is_query in ((q, q_pids, True), (g, g_pids, False)):
        for feat, pid in zip(feats, pids):
            sample = ReIDDataSample(
                metainfo=dict(pid=int(pid), camid=int(is_query),
                              is_query=is_query))
            sample.feat = feat
            samples.append(sample)
    metric = ReIDMetric(rerank=dict(k1=8, k2=3))
    assert metric.rerank == dict(k1=8, k2=3, lambda_value=0.3)
    metric.process(None, samples)
    scores = metric.compute_metrics(metric.results)
    expected = evaluate_rank(
        k_reciprocal_rerank(q, g, k1=8, k2=3), q_pids, g_pids,
        torch.ones(12), torch.zeros(40))
    assert scores['mAP'] == pytest.approx(expected['mAP'])
    assert ReIDMetric(rerank=True).rerank == dict(
        k1=20, k2=6, lambda_value=0.3)
    assert ReIDMetric().rerank is None
    with pytest.raises(ValueError, match='unknown rerank option'):
        ReIDMetric(rerank=dict(k3=1))


@pytest.mark.parametrize('single_gallery_shot', [False, True])
def test_reranked_ranking_equals_per_query_reference(single_gallery_shot):
    q, g, q_pids, g_pids = clustered_features(6, num_q=20, num_g=90)
    gen = torch.Generator().manual_seed(6)
    q_cams = torch.randint(0, 3, (20, ), generator=gen)
    g_cams = torch.randint(0, 3, (90, ), generator=gen)
    rerank = dict(k1=10, k2=4, lambda_value=0.3, knn_backend='torch')
    distmat = k_reciprocal_rerank(q, g, **rerank)
    got = evaluate_rank_from_features(
        q, g, q_pids, g_pids, q_cams, g_cams, rerank=rerank, chunk_size=6,
        single_gallery_shot=single_gallery_shot)
    expected = reference_scores(distmat.numpy(), q_pids, g_pids, q_cams,
                                g_cams)
    # mAP and mINP always use the whole gallery; so does CMC without
    # single-gallery-shot.
    keys = expected if not single_gallery_shot else ('mAP', 'mINP')
    for key in keys:
        assert got[key] == pytest.approx(expected[key], abs=1e-6), key
