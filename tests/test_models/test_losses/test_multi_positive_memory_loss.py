"""MultiPositiveMemoryLoss against hand-computed values and SCL's loss_fn."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmreid_unsup.models.losses import MultiPositiveMemoryLoss


def _reference_scl_loss(feats, memory, candidates, num_pos, lambda_t, alpha,
                        t=10.0):
    """SCL's ``loss_fn`` + ``ExLoss.forward`` (engine/loss.py), forward only.

    ``positive_index`` has ``num_pos + 1`` columns (self first); one
    cross-entropy per positive column against all candidates.
    """
    cof = np.zeros(num_pos + 1)
    cof[0] = lambda_t
    cof[1:] = alpha * (1 - lambda_t) / num_pos
    n = feats.size(0)
    logits = torch.stack(
        [feats[i:i + 1].mm(memory[candidates[i]].t())[0] for i in range(n)])
    logits = logits * t
    loss = 0
    for j in range(num_pos + 1):
        loss += cof[j] * F.cross_entropy(logits, torch.full((n, ), j))
    return loss


def test_hand_computed_value():
    # One anchor, 3 candidates: self, one neighbour, one negative.
    sims = torch.tensor([[0.5, 0.2, -0.1]])
    loss = MultiPositiveMemoryLoss(
        temperature=0.5, self_weight=0.6, neighbour_weight=0.3)
    value = loss(sims, torch.tensor([0, 1]))
    logits = [1.0, 0.4, -0.2]
    log_z = math.log(sum(math.exp(v) for v in logits))
    expected = -(0.6 * (1.0 - log_z) + 0.3 * (0.4 - log_z))
    assert math.isclose(float(value), expected, rel_tol=1e-6)


def test_matches_scl_reference_loss():
    torch.manual_seed(0)
    num, dim, batch, num_pos, num_neg = 40, 16, 6, 7, 12
    memory = F.normalize(torch.randn(num, dim), dim=1)
    feats = F.normalize(torch.randn(batch, dim), dim=1)
    candidates = torch.stack(
        [torch.randperm(num)[:1 + num_pos + num_neg] for _ in range(batch)])
    expected = _reference_scl_loss(feats, memory, candidates, num_pos,
                                   lambda_t=0.5, alpha=1.75)
    ours = MultiPositiveMemoryLoss(
        temperature=0.1, self_weight=0.5, neighbour_weight=1.75 * 0.5)
    sims = torch.stack([feats[i] @ memory[candidates[i]].t()
                        for i in range(batch)])
    value = ours(sims, torch.arange(1 + num_pos))
    assert torch.allclose(value, expected.float(), atol=1e-5)
    # Warm-up: the only positive is the anchor itself.
    expected = 0.5 * F.cross_entropy(sims / 0.1, torch.zeros(batch).long())
    assert torch.allclose(ours(sims, torch.tensor([0])), expected)


def test_uniform_weights_split_over_valid_neighbours():
    loss = MultiPositiveMemoryLoss(self_weight=1.0, neighbour_weight=1.0)
    sims = torch.zeros(2, 5)
    positives = torch.tensor([[0, 1, 2, 3], [4, 2, -1, -1]])
    weights = loss.positive_weights(sims, positives)
    assert torch.allclose(
        weights,
        torch.tensor([[1.0, 1 / 3, 1 / 3, 1 / 3], [1.0, 1.0, 0.0, 0.0]]))
    # GSL-style: -log p(i) - mean_j log p(j), uniform logits.
    value = loss(sims, positives)
    assert math.isclose(float(value), 2 * math.log(5), rel_tol=1e-6)


def test_similarity_weights_favour_closer_neighbours():
    loss = MultiPositiveMemoryLoss(
        self_weight=0.5,
        neighbour_weight=1.0,
        neighbour_weighting='similarity',
        weighting_temperature=0.5)
    sims = torch.tensor([[0.9, 0.8, 0.3, 0.1]], requires_grad=True)
    weights = loss.positive_weights(sims, torch.tensor([[0, 1, 2, -1]]))
    expected = torch.tensor([0.8, 0.3]).div(0.5).softmax(0)
    assert torch.allclose(weights[0, 1:3], expected)
    assert weights[0, 3] == 0 and not weights.requires_grad


def test_rows_without_positives_are_ignored():
    loss = MultiPositiveMemoryLoss()
    sims = torch.randn(3, 4, requires_grad=True)
    positives = torch.tensor([[0, 1], [-1, -1], [2, -1]])
    value = loss(sims, positives)
    value.backward()
    assert torch.all(sims.grad[1] == 0)
    kept = loss(sims[[0, 2]], positives[[0, 2]])
    assert torch.allclose(value, kept)
    empty = loss(sims, torch.full((3, 2), -1))
    assert float(empty.detach()) == 0.0 and empty.requires_grad


def test_explicit_weights_and_loss_weight():
    loss = MultiPositiveMemoryLoss(temperature=1.0, loss_weight=2.0)
    sims = torch.tensor([[0.0, 0.0]])
    value = loss(sims, torch.tensor([[0, 1]]), weights=torch.tensor([[1.0,
                                                                       0.0]]))
    assert math.isclose(float(value), 2 * math.log(2), rel_tol=1e-6)


@pytest.mark.parametrize('kwargs', [
    dict(temperature=0),
    dict(neighbour_weighting='softmax'),
])
def test_invalid_arguments(kwargs):
    with pytest.raises(ValueError):
        MultiPositiveMemoryLoss(**kwargs)


def test_out_of_range_positive_is_a_clear_error():
    with pytest.raises(ValueError, match='out of range'):
        MultiPositiveMemoryLoss()(torch.zeros(1, 3), torch.tensor([[0, 3]]))
