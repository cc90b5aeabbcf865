"""Test-time k-reciprocal re-ranking against a dense per-image reference."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from ranking_reference import reference_scores

from mmreid_unsup.evaluation import ReIDMetric
from mmreid_unsup.evaluation.functional import (evaluate_rank,
                                                evaluate_rank_from_features,
                                                k_reciprocal_rerank,
                                                k_reciprocal_rerank_blocks)
from mmreid_unsup.pseudo_labels.jaccard_distance import (
    jaccard_distance_from_encoding, k_reciprocal_encoding,
    local_query_expansion)
from mmreid_unsup.pseudo_labels.knn import knn_search
from mmreid_unsup.structures import ReIDDataSample


def reference_rerank(q_feats, g_feats, k1, k2, lambda_value):
    """The module docstring's definition, with Python sets and dense
    arrays, one image at a time."""
    feats = F.normalize(torch.cat([q_feats, g_feats]).double(), dim=1)
    feats = feats.numpy()
    num, num_q = len(feats), len(q_feats)
    dist = np.clip(2 - 2 * feats @ feats.T, 0, None)
    ranking = [sorted(range(num), key=lambda j: (dist[i, j], j != i, j))
               for i in range(num)]
    initial = [r[:k1] for r in ranking]

    def reciprocal(i, k):
        width = min(k + 1, k1)
        return {j for j in initial[i][:width] if i in initial[j][:width]}

    half = int(np.around(k1 / 2))
    encoding = np.zeros((num, num))
    for i in range(num):
        full = reciprocal(i, k1)
        expanded = set(full)
        for c in full:
            candidate = reciprocal(c, half)
            if len(candidate & full) > 2 / 3 * len(candidate):
                expanded |= candidate
        members = sorted(expanded)
        weights = np.exp(-dist[i, members])
        encoding[i, members] = weights / weights.sum()
    encoding = np.stack(
        [encoding[initial[i][:k2]].mean(axis=0) for i in range(num)])
    final = np.zeros((num_q, num - num_q))
    for q in range(num_q):
        for g in range(num - num_q):
            m = np.minimum(encoding[q], encoding[num_q + g]).sum()
            jaccard = max(0.0, 1 - m / (2 - m))
            original = dist[q, num_q + g] / dist[q].max()
            final[q, g] = ((1 - lambda_value) * jaccard +
                           lambda_value * original)
    return final


def clustered_features(seed, num_q=12, num_g=40, num_ids=6, dim=8):
    gen = torch.Generator().manual_seed(seed)
    centres = torch.randn(num_ids, dim, generator=gen)
    q_pids = torch.arange(num_q) % num_ids
    g_pids = torch.arange(num_g) % num_ids
    q = centres[q_pids] + 0.8 * torch.randn(num_q, dim, generator=gen)
    g = centres[g_pids] + 0.8 * torch.randn(num_g, dim, generator=gen)
    return q, g, q_pids, g_pids


@pytest.mark.parametrize('k1,k2,lambda_value', [(20, 6, 0.3), (7, 1, 0.0),
                                                (5, 3, 1.0)])
def test_matches_dense_reference(k1, k2, lambda_value):
    q, g, _, _ = clustered_features(0)
    expected = reference_rerank(q, g, k1, k2, lambda_value)
    got = k_reciprocal_rerank(
        q, g, k1=k1, k2=k2, lambda_value=lambda_value, knn_backend='torch')
    assert got.dtype == torch.float32 and got.shape == (12, 40)
    np.testing.assert_allclose(got.numpy(), expected, atol=2e-5)


def test_jaccard_part_equals_the_pseudo_label_jaccard():
    q, g, _, _ = clustered_features(1)
    feats = F.normalize(torch.cat([q, g]), dim=1)
    _, initial_rank = knn_search(feats, 10, backend='torch')
    initial_rank = initial_rank.numpy()
    encoding = local_query_expansion(
        k_reciprocal_encoding(feats, initial_rank, 10), initial_rank, 4)
    dense = jaccard_distance_from_encoding(encoding)
    got = k_reciprocal_rerank(
        q, g, k1=10, k2=4, lambda_value=0.0, knn_backend='torch')
    np.testing.assert_allclose(got.numpy(), dense[:12, 12:], atol=1e-6)


def test_blocks_do_not_depend_on_chunk_size():
    q, g, _, _ = clustered_features(2)
    whole = k_reciprocal_rerank(q, g, k1=8, k2=3)
    blocks = list(k_reciprocal_rerank_blocks(q, g, k1=8, k2=3, chunk_size=5))
    assert [start for start, _ in blocks] == [0, 5, 10]
    torch.testing.assert_close(torch.cat([b for _, b in blocks]), whole)


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


def test_invalid_settings():
    q, g, _, _ = clustered_features(5)
    with pytest.raises(ValueError, match='lambda_value'):
        next(k_reciprocal_rerank_blocks(q, g, lambda_value=1.5))
    with pytest.raises(ValueError, match='k2 <= k1'):
        next(k_reciprocal_rerank_blocks(q, g, k1=3, k2=4))
    with pytest.raises(ValueError, match='number of query'):
        next(k_reciprocal_rerank_blocks(q, g, k1=100, k2=4))


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
