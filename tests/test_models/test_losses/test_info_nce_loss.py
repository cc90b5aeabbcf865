import math

import pytest
import torch

from mmreid_unsup.registry import MODELS


def _hand_ce(rows, labels, temperature):
    losses = []
    for row, label in zip(rows, labels):
        logits = [s / temperature for s in row]
        log_z = math.log(sum(math.exp(v) for v in logits))
        losses.append(log_z - logits[label])
    return sum(losses) / len(losses)


def test_equals_hand_computed_cross_entropy():
    loss_fn = MODELS.build(dict(type='InfoNCELoss', temperature=0.5))
    rows = [[0.5, 0.1, -0.2], [0.2, 0.4, 0.0]]
    loss = loss_fn(torch.tensor(rows), torch.tensor([0, 1]))
    assert loss.item() == pytest.approx(_hand_ce(rows, [0, 1], 0.5), rel=1e-6)


def test_default_temperature_and_weight():
    loss_fn = MODELS.build(dict(type='InfoNCELoss', loss_weight=2.0))
    rows = [[0.3, 0.1]]
    loss = loss_fn(torch.tensor(rows), torch.tensor([1]))
    assert loss.item() == pytest.approx(
        2.0 * _hand_ce(rows, [1], 0.05), rel=1e-5)


def test_outliers_are_ignored():
    loss_fn = MODELS.build(dict(type='InfoNCELoss', temperature=0.5))
    rows = [[0.5, 0.1], [0.9, -0.9], [0.2, 0.4]]
    sims = torch.tensor(rows, requires_grad=True)
    loss = loss_fn(sims, torch.tensor([0, -1, 1]))
    assert loss.item() == pytest.approx(
        _hand_ce([rows[0], rows[2]], [0, 1], 0.5), rel=1e-6)
    loss.backward()
    assert torch.all(sims.grad[1] == 0)


def test_all_outliers_give_differentiable_zero():
    loss_fn = MODELS.build(dict(type='InfoNCELoss'))
    sims = torch.randn(3, 2, requires_grad=True)
    loss = loss_fn(sims, torch.full((3, ), -1))
    assert loss.item() == 0.0
    loss.backward()
    assert torch.all(sims.grad == 0)


def test_rejects_non_positive_temperature():
    with pytest.raises(ValueError):
        MODELS.build(dict(type='InfoNCELoss', temperature=0))
