"""Single-gallery-shot draws and ranks against a brute-force loop."""
import numpy as np
import pytest
import torch

from mmreid_unsup.evaluation.functional.single_shot import (
    SingleShotDraws, single_shot_ranks)


def test_draws_pick_each_identity_smallest_key():
    g_pids = torch.tensor([4, 2, 4, 4, 9, 2])
    draws = SingleShotDraws(g_pids, num_repeats=5, seed=3)
    keys = np.random.default_rng(3).random((5, 6))
    assert draws.rep_pids.tolist() == [2, 4, 9]
    for t in range(5):
        for rep, pid in zip(draws.reps[t].tolist(), [2, 4, 9]):
            members = (g_pids == pid).nonzero().flatten().tolist()
            assert rep == min(members, key=lambda g: keys[t, g])
    with pytest.raises(ValueError, match='num_repeats must be >= 1'):
        SingleShotDraws(g_pids, num_repeats=0, seed=0)


@pytest.mark.parametrize('seed', [0, 1])
def test_ranks_match_brute_force_with_ties(seed):
    rng = np.random.default_rng(seed)
    num_q, num_g = 9, 50
    dist = rng.integers(0, 5, size=(num_q, num_g)).astype(np.float32)
    q_pids = rng.integers(0, 6, num_q)
    g_pids = rng.integers(0, 6, num_g)
    draws = SingleShotDraws(torch.from_numpy(g_pids), 4, seed)
    # True matches: same identity, every other gallery item.
    rows, cols = [], []
    for q in range(num_q):
        for g in range(0, num_g, 2):
            if g_pids[g] == q_pids[q]:
                rows.append(q)
                cols.append(g)
    got = single_shot_ranks(torch.from_numpy(dist), torch.tensor(rows),
                            torch.tensor(cols), torch.from_numpy(q_pids),
                            draws)
    keys = draws.keys.numpy()
    for q in range(num_q):
        matches = [c for r, c in zip(rows, cols) if r == q]
        if not matches:
            continue
        for t in range(4):
            own = min(matches, key=lambda g: keys[t, g])
            others = [
                g for g, pid in zip(draws.reps[t].tolist(),
                                    draws.rep_pids.tolist())
                if pid != q_pids[q]
            ]
            expected = 1 + sum((dist[q, g], g) < (dist[q, own], own)
                               for g in others)
            assert got[q, t] == expected
