"""Ranking edge cases and the CUHK03 single-gallery-shot protocol against
brute-force per-query references."""
import numpy as np
import pytest
import torch

from mmreid_unsup.evaluation import evaluate_rank, evaluate_rank_from_features
from mmreid_unsup.evaluation.functional import feature_distance_blocks


def reference_rank(distmat, q_pids, g_pids, q_camids, g_camids, topk):
    """One query at a time: stable order, junk removed, AP/CMC/INP."""
    aps, inps, firsts = [], [], []
    for q in range(len(q_pids)):
        order = sorted(range(len(g_pids)), key=lambda g: (distmat[q][g], g))
        kept = [
            g for g in order
            if not (g_pids[g] == q_pids[q] and g_camids[g] == q_camids[q])
        ]
        ranks = [r + 1 for r, g in enumerate(kept) if g_pids[g] == q_pids[q]]
        if not ranks:
            continue
        aps.append(np.mean([(j + 1) / r for j, r in enumerate(ranks)]))
        inps.append(len(ranks) / ranks[-1])
        firsts.append(ranks[0])
    out = dict(mAP=100 * np.mean(aps))
    for k in topk:
        out[f'rank{k}'] = 100 * np.mean([f <= k for f in firsts])
    out['mINP'] = 100 * np.mean(inps)
    out['num_valid_queries'] = len(aps)
    out['num_skipped_queries'] = len(q_pids) - len(aps)
    return out


def reference_single_shot(distmat, q_pids, g_pids, q_camids, g_camids, topk,
                          num_repeats, seed):
    """CUHK03 single-gallery-shot CMC with the documented draws: each draw
    gives every gallery image a uniform key, an identity's representative
    is its kept image with the smallest key."""
    rng = np.random.default_rng(seed)
    draws = [rng.random(len(g_pids)) for _ in range(num_repeats)]
    hits = {k: [] for k in topk}
    for q in range(len(q_pids)):
        kept = [
            g for g in range(len(g_pids))
            if not (g_pids[g] == q_pids[q] and g_camids[g] == q_camids[q])
        ]
        if not any(g_pids[g] == q_pids[q] for g in kept):
            continue
        per_draw = {k: [] for k in topk}
        for keys in draws:
            reps = {}
            for g in kept:
                pid = g_pids[g]
                if pid not in reps or keys[g] < keys[reps[pid]]:
                    reps[pid] = g
            order = sorted(reps.values(), key=lambda g: (distmat[q][g], g))
            rank = 1 + [g_pids[g] for g in order].index(q_pids[q])
            for k in topk:
                per_draw[k].append(rank <= k)
        for k in topk:
            hits[k].append(np.mean(per_draw[k]))
    return {f'rank{k}': 100 * np.mean(hits[k]) for k in topk}


def random_problem(seed, num_q=40, num_g=150, num_ids=15, num_cams=3,
                   levels=12):
    rng = np.random.default_rng(seed)
    distmat = rng.integers(0, levels, size=(num_q, num_g)).astype(np.float32)
    return (distmat, rng.integers(0, num_ids, num_q),
            rng.integers(0, num_ids, num_g), rng.integers(0, num_cams, num_q),
            rng.integers(0, num_cams, num_g))


def assert_scores(got, expected):
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-9), key


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_negative_and_tied_distances_match_reference(seed):
    distmat, q_pids, g_pids, q_cams, g_cams = random_problem(seed)
    # Negative values, signed zeros and ties across the sign change: the
    # integer keys must keep float order and treat -0.0 like +0.0.
    distmat = distmat - 6
    distmat[distmat == 0] = -0.0 if seed % 2 else 0.0
    distmat[:, ::7] = -0.0
    expected = reference_rank(distmat, q_pids, g_pids, q_cams, g_cams,
                              (1, 5, 10))
    got = evaluate_rank(distmat, q_pids, g_pids, q_cams, g_cams,
                        chunk_size=9)
    assert_scores(got, expected)


def test_float64_distances_are_ranked_as_float32():
    distmat, q_pids, g_pids, q_cams, g_cams = random_problem(3)
    distmat = distmat.astype(np.float64) / 7  # not exact in float32
    expected = reference_rank(distmat.astype(np.float32), q_pids, g_pids,
                              q_cams, g_cams, (1, 5))
    got = evaluate_rank(distmat, q_pids, g_pids, q_cams, g_cams, topk=(1, 5))
    assert_scores(got, expected)


def test_nan_distance_is_an_error():
    distmat = np.array([[0.1, np.nan]], dtype=np.float32)
    with pytest.raises(ValueError, match='NaN'):
        evaluate_rank(distmat, [1], [1, 2], [0], [1, 1])


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match='gallery pids'):
        evaluate_rank(np.zeros((1, 3)), [1], [1, 2], [0], [1, 1])
    with pytest.raises(ValueError, match='query pids'):
        evaluate_rank(np.zeros((2, 2)), [1], [1, 2], [0], [1, 1])


@pytest.mark.parametrize('chunk_size', [1, 8, 1000])
def test_single_gallery_shot_matches_reference(chunk_size):
    distmat, q_pids, g_pids, q_cams, g_cams = random_problem(
        4, num_q=30, num_g=120, num_ids=10)
    topk = (1, 2, 5)
    expected = reference_single_shot(distmat, q_pids, g_pids, q_cams, g_cams,
                                     topk, 6, 11)
    got = evaluate_rank(
        distmat,
        q_pids,
        g_pids,
        q_cams,
        g_cams,
        topk=topk,
        chunk_size=chunk_size,
        single_gallery_shot=True,
        num_repeats=6,
        seed=11)
    assert_scores(got, expected)
    # mAP and mINP are those of the whole gallery.
    multi = evaluate_rank(distmat, q_pids, g_pids, q_cams, g_cams, topk=topk)
    assert got['mAP'] == multi['mAP'] and got['mINP'] == multi['mINP']
    # One image per identity can only move the first match up.
    assert all(got[f'rank{k}'] >= multi[f'rank{k}'] for k in topk)
    assert got['rank1'] > multi['rank1']


def test_single_gallery_shot_is_seeded():
    distmat, q_pids, g_pids, q_cams, g_cams = random_problem(5)
    runs = [
        evaluate_rank(
            distmat,
            q_pids,
            g_pids,
            q_cams,
            g_cams,
            single_gallery_shot=True,
            num_repeats=3,
            seed=seed) for seed in (0, 0, 1)
    ]
    assert runs[0] == runs[1]
    assert runs[0]['rank1'] != runs[2]['rank1']


def test_feature_blocks_cover_every_query_once():
    gen = torch.Generator().manual_seed(0)
    q, g = torch.randn(10, 4, generator=gen), torch.randn(7, 4, generator=gen)
    blocks = list(feature_distance_blocks(q, g, chunk_size=4))
    assert [start for start, _ in blocks] == [0, 4, 8]
    assert [b.shape for _, b in blocks] == [(4, 7), (4, 7), (2, 7)]
    dist = torch.cat([b for _, b in blocks])
    qn = torch.nn.functional.normalize(q, dim=1)
    gn = torch.nn.functional.normalize(g, dim=1)
    torch.testing.assert_close(dist, torch.cdist(qn, gn)**2, atol=1e-5,
                               rtol=0)


def test_features_single_gallery_shot_equals_distance_path():
    gen = torch.Generator().manual_seed(2)
    q, g = torch.randn(25, 6, generator=gen), torch.randn(80, 6, generator=gen)
    q_pids, g_pids = torch.randint(0, 8, (25, ), generator=gen), torch.randint(
        0, 8, (80, ), generator=gen)
    q_cams, g_cams = torch.randint(0, 2, (25, ), generator=gen), torch.randint(
        0, 2, (80, ), generator=gen)
    distmat = torch.cat([b for _, b in feature_distance_blocks(q, g)])
    kwargs = dict(single_gallery_shot=True, num_repeats=4, seed=3)
    assert evaluate_rank_from_features(q, g, q_pids, g_pids, q_cams, g_cams,
                                       chunk_size=7, **kwargs) == \
        evaluate_rank(distmat, q_pids, g_pids, q_cams, g_cams, **kwargs)


def test_reused_feature_blocks_equal_fresh_ones():
    gen = torch.Generator().manual_seed(3)
    q, g = torch.randn(10, 4, generator=gen), torch.randn(7, 4, generator=gen)
    fresh = list(feature_distance_blocks(q, g, chunk_size=4))
    starts = []
    for (start, block), (_, expected) in zip(
            feature_distance_blocks(q, g, chunk_size=4, reuse=True), fresh):
        starts.append(start)
        assert torch.equal(block, expected)
    assert starts == [0, 4, 8]
