"""Ranking functions against hand-computed values and a per-query loop."""
import numpy as np
import pytest
import torch
from ranking_reference import reference_query_stats, reference_scores
from sklearn.metrics import average_precision_score

from mmreid_unsup.evaluation import (evaluate_rank,
                                     evaluate_rank_from_features)
from mmreid_unsup.evaluation.functional import (feature_distance_blocks,
                                                query_rank_stats)


def reference_rank(distmat, q_pids, g_pids, q_camids, g_camids, topk):
    """One query at a time, with Python lists, as torchreid describes it."""
    aps, inps, firsts = [], [], []
    for q in range(len(q_pids)):
        order = sorted(range(len(g_pids)), key=lambda g: (distmat[q][g], g))
        kept = [
            g for g in order
            if not (g_pids[g] == q_pids[q] and g_camids[g] == q_camids[q])
        ]
        hits = [int(g_pids[g] == q_pids[q]) for g in kept]
        if sum(hits) == 0:
            continue
        match_ranks = [r + 1 for r, h in enumerate(hits) if h]
        aps.append(np.mean([(j + 1) / r for j, r in enumerate(match_ranks)]))
        inps.append(len(match_ranks) / match_ranks[-1])
        firsts.append(match_ranks[0])
    out = dict(mAP=100 * np.mean(aps))
    for k in topk:
        out[f'rank{k}'] = 100 * np.mean([f <= k for f in firsts])
    out['mINP'] = 100 * np.mean(inps)
    out['num_valid_queries'] = len(aps)
    out['num_skipped_queries'] = len(q_pids) - len(aps)
    return out


def assert_same_scores(got, expected):
    assert got.keys() == expected.keys()
    for key in expected:
        assert got[key] == pytest.approx(expected[key], abs=1e-9), key


def test_stable_ties_follow_gallery_order():
    # One query (pid 1, cam 0); a distractor and a true match tie at 0.5.
    distmat = np.array([[0.5, 0.5, 0.9]])
    scores = evaluate_rank(distmat, [1], [5, 1, 7], [0], [1, 1, 1])
    # Distractor first: the match is at rank 2.
    assert scores['rank1'] == 0 and scores['mAP'] == pytest.approx(50)
    scores = evaluate_rank(distmat, [1], [1, 5, 7], [0], [1, 1, 1])
    assert scores['rank1'] == 100 and scores['mAP'] == pytest.approx(100)


@pytest.mark.parametrize('chunk_size', [1, 7, 1000])
def test_matches_reference_with_many_ties(chunk_size):
    rng = np.random.default_rng(0)
    num_q, num_g = 40, 120
    # Integer distances: plenty of ties, which the stable order must break
    # by gallery index.
    distmat = rng.integers(0, 15, size=(num_q, num_g)).astype(np.float32)
    q_pids, g_pids = rng.integers(0, 12, num_q), rng.integers(0, 12, num_g)
    q_cams, g_cams = rng.integers(0, 3, num_q), rng.integers(0, 3, num_g)
    expected = reference_rank(distmat, q_pids, g_pids, q_cams, g_cams,
                              (1, 3, 5, 10))
    got = evaluate_rank(
        distmat,
        q_pids,
        g_pids,
        q_cams,
        g_cams,
        topk=(1, 3, 5, 10),
        chunk_size=chunk_size)
    assert_same_scores(got, expected)


def test_features_match_reference_and_sklearn_ap():
    gen = torch.Generator().manual_seed(1)
    num_q, num_g, dim = 30, 90, 16
    q_feats = torch.randn(num_q, dim, generator=gen)
    g_feats = torch.randn(num_g, dim, generator=gen)
    q_pids = torch.randint(0, 10, (num_q, ), generator=gen)
    g_pids = torch.randint(0, 10, (num_g, ), generator=gen)
    q_cams = torch.randint(0, 4, (num_q, ), generator=gen)
    g_cams = torch.randint(0, 4, (num_g, ), generator=gen)
    # Pull every query towards one gallery image of its identity, so the
    # metrics are far from chance.
    for q in range(num_q):
        same = (g_pids == q_pids[q]).nonzero().flatten()
        if len(same):
            q_feats[q] += 2 * g_feats[same[0]]

    qn = torch.nn.functional.normalize(q_feats.double(), dim=1)
    gn = torch.nn.functional.normalize(g_feats.double(), dim=1)
    distmat = (2 - 2 * qn @ gn.t()).numpy()
    expected = reference_rank(distmat, q_pids.tolist(), g_pids.tolist(),
                              q_cams.tolist(), g_cams.tolist(), (1, 5, 10))
    got = evaluate_rank_from_features(
        q_feats, g_feats, q_pids, g_pids, q_cams, g_cams, chunk_size=4)
    assert_same_scores(got, expected)
    assert 20 < got['mAP'] < 100

    # Without ties, cumulative-precision AP equals sklearn's AP.
    aps = []
    for q in range(num_q):
        keep = ~((g_pids == q_pids[q]) & (g_cams == q_cams[q])).numpy()
        y_true = (g_pids == q_pids[q]).numpy()[keep]
        if y_true.any():
            aps.append(average_precision_score(y_true, -distmat[q][keep]))
    assert got['mAP'] == pytest.approx(100 * np.mean(aps), abs=1e-6)


def test_no_valid_query_is_an_error():
    with pytest.raises(ValueError, match='no query has a true match'):
        # The only same-identity gallery item is on the query's camera.
        evaluate_rank([[0.1, 0.2]], [1], [1, 2], [0], [0, 1])
    with pytest.raises(ValueError, match='no queries'):
        evaluate_rank(np.zeros((0, 2)), [], [1, 2], [], [0, 1])


def tied_problem(seed, num_q=30, num_g=200, num_ids=6, num_cams=3):
    """Distances on a coarse grid (many ties), few identities (many true
    matches per query), query identities missing from the gallery, and an
    identity whose gallery images all share its queries' camera (queries
    without a true match)."""
    rng = np.random.default_rng(seed)
    distmat = (np.round(rng.random((num_q, num_g)) * 40) / 16).astype(
        np.float32)
    q_pids = rng.integers(0, num_ids + 2, num_q)
    g_pids = rng.integers(0, num_ids, num_g)
    q_cams = rng.integers(0, num_cams, num_q)
    g_cams = rng.integers(0, num_cams, num_g)
    q_cams[q_pids == 0] = 0
    g_cams[g_pids == 0] = 0
    return distmat, q_pids, g_pids, q_cams, g_cams


@pytest.mark.parametrize('seed', [0, 1])
def test_query_rank_stats_equal_per_query_reference(seed):
    problem = tied_problem(seed)
    expected = reference_query_stats(*problem)
    got = query_rank_stats(*(torch.as_tensor(x) for x in problem))
    assert (got['num_matches'] == 0).any() and (got['num_matches'] > 5).any()
    for q, ref in enumerate(expected):
        assert got['num_matches'][q] == ref['num_matches']
        assert got['first_match'][q] == ref['first_match']
        assert got['ap'][q].item() == pytest.approx(ref['ap'], abs=1e-12)
        assert got['inp'][q].item() == pytest.approx(ref['inp'], abs=1e-12)


@pytest.mark.parametrize('chunk_size', [1, 7, 64])
def test_tied_problems_equal_reference(chunk_size):
    for seed in (2, 3):
        problem = tied_problem(seed)
        expected = reference_scores(*problem, topk=(1, 2, 5, 20))
        got = evaluate_rank(
            *problem, topk=(1, 2, 5, 20), chunk_size=chunk_size)
        assert got.keys() == expected.keys()
        for key in expected:
            assert got[key] == pytest.approx(expected[key], abs=1e-6), key


def test_feature_distances_equal_reference():
    # Noisy features of few identities: float32 distances close to each
    # other around 2, ranked exactly like a per-query argsort of the very
    # same distances.
    gen = torch.Generator().manual_seed(4)
    centres = torch.randn(5, 32, generator=gen)
    q_pids = torch.randint(0, 5, (40, ), generator=gen)
    g_pids = torch.randint(0, 5, (900, ), generator=gen)
    q_feats = centres[q_pids] + 3 * torch.randn(40, 32, generator=gen)
    g_feats = centres[g_pids] + 3 * torch.randn(900, 32, generator=gen)
    q_cams = torch.randint(0, 3, (40, ), generator=gen)
    g_cams = torch.randint(0, 3, (900, ), generator=gen)
    distmat = torch.cat(
        [b for _, b in feature_distance_blocks(q_feats, g_feats, 16)])
    expected = reference_scores(distmat.numpy(), q_pids, g_pids, q_cams,
                                g_cams)
    got = evaluate_rank_from_features(
        q_feats, g_feats, q_pids, g_pids, q_cams, g_cams, chunk_size=16)
    for key in expected:
        assert got[key] == pytest.approx(expected[key], abs=1e-6), key


def test_invalid_chunk_size_is_an_error():
    with pytest.raises(ValueError, match='chunk_size must be >= 1'):
        evaluate_rank([[0.1, 0.2]], [1], [1, 2], [0], [1, 1], chunk_size=0)
    with pytest.raises(ValueError, match='chunk_size must be >= 1'):
        evaluate_rank_from_features(
            torch.ones(1, 2), torch.ones(2, 2), [1], [1, 2], [0], [1, 1],
            chunk_size=0)


def test_distances_that_require_grad_are_ranked():
    distmat = torch.tensor([[0.5, 0.5, 0.9]], requires_grad=True)
    scores = evaluate_rank(distmat, [1], [5, 1, 7], [0], [1, 1, 1])
    assert scores['rank1'] == 0 and scores['mAP'] == pytest.approx(50)
