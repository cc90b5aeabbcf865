"""count_closer and its helpers against a stable argsort of each row."""
import numpy as np
import pytest
import torch

from mmreid_unsup.evaluation.functional.match_ranks import (
    _count_closer_torch, IdentityGroups, count_closer, distance_keys,
    ordered_bits)


def reference_positions(dist, rows, cols):
    """Position of each (row, col) in the stable argsort of its row."""
    out = []
    for row, col in zip(rows.tolist(), cols.tolist()):
        order = sorted(range(dist.shape[1]),
                       key=lambda g: (float(dist[row, g]), g))
        out.append(order.index(col))
    return torch.tensor(out, dtype=torch.long)


def random_items(seed, num_rows=12, num_cols=60, levels=6, max_items=8):
    """Integer distances (many ties, signed zeros, negatives) and a few
    distinct items per row, some rows without any."""
    rng = np.random.default_rng(seed)
    dist = rng.integers(-2, levels, size=(num_rows, num_cols)).astype(
        np.float32)
    dist[dist == 0] = -0.0
    dist[:, ::5] = 0.0
    rows, cols = [], []
    for row in range(num_rows):
        num = int(rng.integers(0, max_items + 1))
        for col in sorted(rng.choice(num_cols, size=num, replace=False)):
            rows.append(row)
            cols.append(int(col))
    return (torch.from_numpy(dist), torch.tensor(rows, dtype=torch.long),
            torch.tensor(cols, dtype=torch.long))


@pytest.mark.parametrize('seed', [0, 1, 2, 3])
@pytest.mark.parametrize('budget', [0, 1, 40])
def test_count_closer_matches_stable_argsort(seed, budget):
    dist, rows, cols = random_items(seed)
    expected = reference_positions(dist.numpy(), rows, cols)
    assert torch.equal(count_closer(dist, rows, cols, budget), expected)
    # The torch path (used off CPU) gives the same positions.
    got = _count_closer_torch(dist, rows, cols, budget or dist.numel() // 4)
    assert torch.equal(got, expected)


def test_count_closer_continuous_distances_and_unsorted_items():
    gen = torch.Generator().manual_seed(5)
    dist = torch.rand(7, 300, generator=gen)
    rows = torch.randint(0, 7, (40, ), generator=gen)
    cols = torch.randperm(300, generator=gen)[:40]
    expected = reference_positions(dist.numpy(), rows, cols)
    assert torch.equal(count_closer(dist, rows, cols), expected)
    assert torch.equal(count_closer(dist.t().contiguous().t(), rows, cols),
                       expected)  # not contiguous


def test_count_closer_edge_cases():
    dist = torch.tensor([[0.5, 0.5, 0.5]])
    empty = torch.zeros(0, dtype=torch.long)
    assert count_closer(dist, empty, empty).shape == (0, )
    assert count_closer(dist, torch.tensor([0, 0, 0]),
                        torch.tensor([2, 0, 1])).tolist() == [2, 0, 1]
    with pytest.raises(ValueError, match='dist must be'):
        count_closer(dist.double(), empty, empty)
    with pytest.raises(ValueError, match='rows and cols'):
        count_closer(dist, torch.tensor([0]), torch.tensor([0, 1]))


def test_ordered_bits_and_distance_keys_follow_float_order():
    values = torch.tensor(
        [-float('inf'), -3.5, -1e-30, -0.0, 0.0, 1e-30, 2.0, float('inf')])
    bits = ordered_bits(values)
    assert torch.all(bits[1:] >= bits[:-1])
    assert bits[3] == bits[4]  # -0.0 like +0.0
    assert len(set(bits.tolist())) == len(values) - 1
    keys = distance_keys(torch.tensor([1.0, 1.0, 0.5]), torch.tensor([4, 2,
                                                                      9]))
    assert keys.argsort().tolist() == [2, 1, 0]
    with pytest.raises(ValueError, match='values must be float32'):
        ordered_bits(values.double())


def test_identity_groups_list_each_query_identity():
    g_pids = torch.tensor([3, 1, 3, 7, 1, 3])
    groups = IdentityGroups(g_pids)
    rows, cols, counts = groups.members(torch.tensor([3, 5, 1, 3]))
    assert counts.tolist() == [3, 0, 2, 3]
    assert rows.tolist() == [0, 0, 0, 2, 2, 3, 3, 3]
    assert cols.tolist() == [0, 2, 5, 1, 4, 0, 2, 5]
    rows, cols, counts = IdentityGroups(torch.zeros(
        0, dtype=torch.long)).members(torch.tensor([1, 2]))
    assert rows.numel() == 0 and counts.tolist() == [0, 0]
    with pytest.raises(ValueError, match='g_pids must have shape'):
        IdentityGroups(g_pids[None])
