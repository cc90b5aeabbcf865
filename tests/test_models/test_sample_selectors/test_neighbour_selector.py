"""NeighbourSelector on hand-made memories: distance, positives, negatives,
camera penalty, warm-up."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmreid_unsup.models.sample_selectors import NeighbourSelector
from mmreid_unsup.registry import MODELS


def _unit(angles):
    """Unit 2-d vectors at the given angles (radians)."""
    angles = torch.as_tensor(angles, dtype=torch.float32)
    return torch.stack([angles.cos(), angles.sin()], dim=-1)


def _memory():
    """Six entries on a circle; stripes copy the global direction.

    Angles 0, 0.1, 0.2, 0.35, 1.0, 2.0: from entry 0 the neighbours by
    distance are 1, 2, 3, 4, 5. Cameras: 0, 0, 1, 1, 0, 1.
    """
    angles = torch.tensor([0.0, 0.1, 0.2, 0.35, 1.0, 2.0])
    global_bank = _unit(angles)
    local_bank = torch.stack([_unit(angles), _unit(angles)], dim=1)
    camids = torch.tensor([0, 0, 1, 1, 0, 1])
    return global_bank, local_bank, camids


def test_builds_from_the_registry():
    selector = MODELS.build(
        dict(type='NeighbourSelector', num_positives=2, num_negatives=3))
    assert isinstance(selector, NeighbourSelector)
    assert selector.num_candidates(10) == 6
    assert selector.num_candidates(5) == 5  # negatives capped at N - P - 1


def test_distance_is_the_documented_mix():
    g_bank, l_bank, camids = _memory()
    selector = NeighbourSelector(lambda_g=0.3, lambda_c=0.25)
    # A query whose stripes differ from its global feature.
    q_global = _unit([0.05])
    q_local = torch.stack([_unit([0.5]), _unit([-0.4])], dim=1)
    q_cam = torch.tensor([1])
    dist = selector.distance(q_global, q_local, g_bank, l_bank, q_cam, camids)
    for j in range(6):
        expected = 0.3 * float((q_global[0] - g_bank[j]).pow(2).sum())
        expected += 0.7 / 2 * sum(
            float((q_local[0, s] - l_bank[j, s]).pow(2).sum())
            for s in range(2))
        expected += 0.25 * float(camids[j] == 1)
        assert math.isclose(float(dist[0, j]), expected, abs_tol=1e-5)


def test_positives_are_the_nearest_and_negatives_the_next():
    g_bank, l_bank, camids = _memory()
    selector = NeighbourSelector(
        num_positives=2, num_negatives=2, lambda_c=0.0, warmup_epochs=0)
    # Anchors 0 and 5 query with their own memory entries.
    idx = torch.tensor([0, 5])
    sel = selector.select(g_bank[idx], l_bank[idx], idx, g_bank, l_bank,
                          camids, epoch=0)
    assert sel.positives.tolist() == [[0, 1, 2], [5, 4, 3]]
    assert sel.negatives.tolist() == [[3, 4], [2, 1]]
    assert sel.candidates.tolist() == [[0, 1, 2, 3, 4], [5, 4, 3, 2, 1]]


def test_self_is_removed_even_when_it_is_not_the_nearest():
    g_bank, l_bank, camids = _memory()
    selector = NeighbourSelector(
        num_positives=1, num_negatives=1, lambda_c=0.0, warmup_epochs=0)
    # Anchor 0's current feature sits on entry 3.
    idx = torch.tensor([0])
    sel = selector.select(g_bank[[3]], l_bank[[3]], idx, g_bank, l_bank,
                          camids, epoch=0)
    assert sel.positives.tolist() == [[0, 3]]
    assert sel.negatives.tolist() == [[2]]


def test_camera_penalty_prefers_cross_camera_neighbours():
    g_bank, l_bank, camids = _memory()
    idx = torch.tensor([0])  # camera 0; entry 1 (cam 0) is nearest
    plain = NeighbourSelector(
        num_positives=2, num_negatives=3, lambda_c=0.0, warmup_epochs=0)
    sel = plain.select(g_bank[idx], l_bank[idx], idx, g_bank, l_bank, camids,
                       epoch=0)
    assert sel.positives.tolist() == [[0, 1, 2]]
    # d(0,1) = 2 - 2 cos 0.1 = 0.0100 (same camera), d(0,2) = 0.0399,
    # d(0,3) = 0.1213, d(0,4) = 0.9194 (same camera), d(0,5) = 2.8323.
    # +0.1 on the same camera: 2 (0.040) < 1 (0.110) < 3 < 4 < 5.
    penalised = NeighbourSelector(
        num_positives=2, num_negatives=3, lambda_c=0.1, warmup_epochs=0)
    sel = penalised.select(g_bank[idx], l_bank[idx], idx, g_bank, l_bank,
                           camids, epoch=0)
    assert sel.positives.tolist() == [[0, 2, 1]]
    assert sel.negatives.tolist() == [[3, 4, 5]]
    # +0.2: 1 (0.210) falls behind 3 (0.121).
    stronger = NeighbourSelector(
        num_positives=2, num_negatives=3, lambda_c=0.2, warmup_epochs=0)
    sel = stronger.select(g_bank[idx], l_bank[idx], idx, g_bank, l_bank,
                          camids, epoch=0)
    assert sel.positives.tolist() == [[0, 2, 3]]


def test_cross_camera_ranks_the_anchor_camera_last():
    g_bank, l_bank, camids = _memory()
    idx = torch.tensor([0])  # camera 0; others: 2, 3, 5 (camera 1)
    strict = NeighbourSelector(
        num_positives=2, num_negatives=3, lambda_c=0.0, warmup_epochs=0,
        cross_camera=True)
    sel = strict.select(g_bank[idx], l_bank[idx], idx, g_bank, l_bank,
                        camids, epoch=0)
    # Other cameras by distance (2, 3, 5), then the anchor's own (1, 4).
    assert sel.positives.tolist() == [[0, 2, 3]]
    assert sel.negatives.tolist() == [[5, 1, 4]]
    assert 'cross_camera=True' in repr(strict)


def test_cross_camera_is_an_unbeatable_camera_penalty():
    torch.manual_seed(0)
    g_bank = F.normalize(torch.randn(40, 8), dim=1)
    l_bank = F.normalize(torch.randn(40, 3, 4), dim=2)
    camids = torch.randint(0, 3, (40, ))
    idx = torch.tensor([0, 7, 21])
    g_bank[5] = float('nan')  # a bad entry stays after every good one
    common = dict(num_positives=4, num_negatives=30, warmup_epochs=0,
                  camera_centering=True)
    strict = NeighbourSelector(cross_camera=True, lambda_c=0.05, **common)
    huge = NeighbourSelector(lambda_c=1e4, **common)
    a = strict.select(g_bank[idx], l_bank[idx], idx, g_bank, l_bank, camids,
                      epoch=0)
    b = huge.select(g_bank[idx], l_bank[idx], idx, g_bank, l_bank, camids,
                    epoch=0)
    assert torch.equal(a.positives, b.positives)
    assert torch.equal(a.negatives, b.negatives)
    assert not (a.candidates == 5).any()


def test_ties_go_to_the_smaller_index():
    bank = F.normalize(torch.ones(5, 4), dim=1)
    local = bank.view(5, 2, 2) * math.sqrt(2)
    selector = NeighbourSelector(
        num_positives=2, num_negatives=2, lambda_c=0.0, warmup_epochs=0)
    idx = torch.tensor([2])
    sel = selector.select(bank[idx], local[idx], idx, bank, local,
                          torch.zeros(5, dtype=torch.long), epoch=0)
    assert sel.candidates.tolist() == [[2, 0, 1, 3, 4]]


def test_warmup_self_only_positives_random_shared_negatives():
    num = 50
    g_bank = F.normalize(torch.randn(num, 8), dim=1)
    l_bank = F.normalize(torch.randn(num, 2, 4), dim=2)
    camids = torch.randint(0, 3, (num, ))
    selector = NeighbourSelector(
        num_positives=3, num_negatives=10, warmup_epochs=2)
    idx = torch.arange(20)
    sel = selector.select(g_bank[idx], l_bank[idx], idx, g_bank, l_bank,
                          camids, epoch=1,
                          generator=torch.Generator().manual_seed(0))
    assert sel.positives.tolist() == idx.unsqueeze(1).tolist()
    assert sel.negatives.shape == (20, 13)  # P + M random negatives
    for i, row in zip(idx.tolist(), sel.negatives.tolist()):
        assert i not in row and len(set(row)) == 13
    # One draw per batch: anchors outside the pool share the same list.
    pool = torch.randperm(num, generator=torch.Generator().manual_seed(0))
    pool = pool[:14].tolist()
    for i, row in zip(idx.tolist(), sel.negatives.tolist()):
        assert row == ([p for p in pool if p != i] if i in pool else pool[:13])
    # After the warm-up the neighbours are selected.
    sel = selector.select(g_bank[idx], l_bank[idx], idx, g_bank, l_bank,
                          camids, epoch=2)
    assert sel.positives.shape == (20, 4)


@pytest.mark.parametrize('kwargs', [
    dict(num_positives=-1),
    dict(lambda_g=1.5),
    dict(warmup_epochs=-1),
])
def test_invalid_arguments(kwargs):
    with pytest.raises(ValueError):
        NeighbourSelector(**kwargs)


def test_too_small_memory_is_a_clear_error():
    g_bank, l_bank, camids = _memory()
    selector = NeighbourSelector(num_positives=6, warmup_epochs=0)
    with pytest.raises(ValueError, match='6 positives'):
        selector.select(g_bank[:1], l_bank[:1], torch.tensor([0]), g_bank,
                        l_bank, camids, epoch=0)
