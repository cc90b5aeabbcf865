"""PedalLoss against hand-computed values and PAUL's Pedal."""
import math

import pytest
import torch

from mmreid_unsup.models.losses import PedalLoss

BANK = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])


def _reference_pedal(feats, bank, indices, scale, k):
    """PAUL's ``Pedal.forward`` (src/loss/myloss.py) without CUDA."""
    feature, centers = feats.transpose(0, 1), bank.transpose(0, 1)
    loss = 0
    for p in range(feature.size(0)):
        dist = torch.cdist(feature[p], centers[p]).pow(2)
        keep = torch.arange(dist.size(1)) != indices.unsqueeze(1)
        neg, _ = dist[keep].view(dist.size(0), -1).sort(dim=1)
        x = ((-1 * scale * neg[:, :k]).exp().sum(dim=1)).log()
        y = ((-1 * scale * neg).exp().sum(dim=1)).log()
        loss += (-x + y).sum().div(feature.size(1))
    return loss / feature.size(0)


def test_hand_computed_value():
    # Anchor entry 0 is left out; squared distances to 1, 2, 3: 2, 4, 2.
    feats = torch.tensor([[[1.0, 0.0]]])
    loss = PedalLoss(scale=1.0, num_neighbours=1)
    value = loss(feats, BANK.unsqueeze(1), torch.tensor([0]))
    expected = math.log(2 * math.exp(-2) + math.exp(-4)) + 2
    assert math.isclose(float(value), expected, rel_tol=1e-5)
    # With k = 2 the two nearest (both at distance 2) are the positives.
    value = PedalLoss(scale=1.0, num_neighbours=2, loss_weight=3.0)(
        feats, BANK.unsqueeze(1), torch.tensor([0]))
    expected = math.log(2 * math.exp(-2) + math.exp(-4)) - math.log(
        2 * math.exp(-2))
    assert math.isclose(float(value), 3 * expected, rel_tol=1e-5)


def test_own_entry_is_left_out():
    feats = torch.tensor([[[1.0, 0.0]]])
    # Anchor 2 (the opposite vector) instead of 0: entry 0 at distance 0 is
    # now the nearest.
    value = PedalLoss(scale=1.0, num_neighbours=1)(
        feats, BANK.unsqueeze(1), torch.tensor([2]))
    expected = math.log(1 + 2 * math.exp(-2))
    assert math.isclose(float(value), expected, rel_tol=1e-5)


def test_matches_paul_reference():
    torch.manual_seed(0)
    bank = torch.nn.functional.normalize(torch.randn(30, 3, 8), dim=2)
    feats = torch.nn.functional.normalize(torch.randn(5, 3, 8), dim=2)
    indices = torch.tensor([0, 7, 8, 20, 29])
    ours = PedalLoss(scale=15.0, num_neighbours=10)(feats, bank, indices)
    expected = _reference_pedal(feats, bank, indices, 15.0, 10)
    torch.testing.assert_close(ours, expected, rtol=1e-5, atol=1e-5)


def test_gradient_reaches_the_features_only():
    feats = torch.randn(2, 1, 2, requires_grad=True)
    bank = BANK.unsqueeze(1).clone()
    PedalLoss(num_neighbours=2)(feats, bank, torch.tensor([0, 1])).backward()
    assert feats.grad.abs().sum() > 0


def test_bad_inputs():
    with pytest.raises(ValueError, match='fewer than num_neighbours=4'):
        PedalLoss(num_neighbours=4)(
            torch.randn(1, 1, 2), BANK.unsqueeze(1), torch.tensor([0]))
    with pytest.raises(ValueError, match=r'\(B, S, D\)'):
        PedalLoss()(torch.randn(1, 2), BANK.unsqueeze(1), torch.tensor([0]))
    with pytest.raises(IndexError, match='out of range'):
        PedalLoss(num_neighbours=1)(
            torch.randn(1, 1, 2), BANK.unsqueeze(1), torch.tensor([4]))
    with pytest.raises(ValueError, match='scale'):
        PedalLoss(scale=0)
