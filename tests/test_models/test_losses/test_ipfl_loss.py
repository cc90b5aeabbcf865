"""IPFLLoss: cycle ranking on a constructed case, hand-computed values and
PAUL's Ipfl."""
import math

import pytest
import torch

from mmreid_unsup.models.losses import IPFLLoss

# Agent 1 is the nearest other agent of the row below, but agent 0 is
# among its 3 nearest agents (itself, 0, 2): rejected. Agent 2's 3 nearest
# are itself, 3 and 4: accepted.
AGENTS = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, -3.0], [0.0, -3.5],
                       [0.0, -4.0]])
ROW = torch.tensor([[0.2, 0.0]])


def _reference_ipfl(feature, centers, margin, max_iter=15, nearest=3,
                    num=2):
    """PAUL's ``Ipfl.forward`` (src/loss/myloss.py) without CUDA: rows
    ``j * num ... (j + 1) * num - 1`` are the views of image ``j``."""
    image_label = torch.arange(feature.size(0) // num).repeat(
        num, 1).transpose(0, 1).contiguous().view(-1)
    center_label = torch.arange(feature.size(0) // num)
    loss = 0
    for i in range(feature.size(0)):
        label = image_label[i]
        diff = (feature[i].expand_as(centers) - centers).pow(2).sum(1).sqrt()
        same = diff[center_label == label]
        sorted_, index = diff[center_label != label].sort()
        trust = []
        for j in range(min(max_iter, index.size(0))):
            s = centers[center_label != label][index[j]]
            sout = (s.expand_as(centers) - centers).pow(2).sum(1).sqrt()
            near = center_label[torch.sort(sout)[1][:nearest]]
            if label not in near:
                trust.append(sorted_[j])
                break
        if not trust:
            trust.append(torch.tensor(0.))
        min_diff = torch.stack(trust).min()
        loss += torch.clamp(margin + same.mean() - min_diff, min=0.0)
    return loss / feature.size(0)


def test_cycle_ranking_skips_a_candidate_that_ranks_the_anchor_near():
    loss = IPFLLoss()
    dists = torch.cdist(ROW, AGENTS)
    chosen = loss.select_negatives(dists, torch.tensor([0]), AGENTS)
    assert chosen.tolist() == [2]
    # A neighbourhood of the candidate alone accepts the nearest agent.
    chosen = IPFLLoss(nearest=1).select_negatives(dists, torch.tensor([0]),
                                                  AGENTS)
    assert chosen.tolist() == [1]
    # Checking one candidate only finds none.
    chosen = IPFLLoss(max_candidates=1).select_negatives(
        dists, torch.tensor([0]), AGENTS)
    assert chosen.tolist() == [-1]


def test_hand_computed_values():
    labels = torch.tensor([0])
    value = IPFLLoss(margin=4.0)(ROW, labels, AGENTS)
    expected = 4.0 + 0.2 - math.sqrt(0.2**2 + 3.0**2)
    assert math.isclose(float(value), expected, rel_tol=1e-5)
    # No accepted candidate: the negative distance counts as 0.
    value = IPFLLoss(margin=4.0, max_candidates=1, loss_weight=0.5)(
        ROW, labels, AGENTS)
    assert math.isclose(float(value), 0.5 * (4.0 + 0.2), rel_tol=1e-5)
    # The hinge: a margin the negative already clears gives 0.
    assert float(IPFLLoss(margin=1.0)(ROW, labels, AGENTS)) == 0.0


def test_matches_paul_reference():
    torch.manual_seed(0)
    agents = torch.randn(6, 4)
    feats = agents.repeat_interleave(2, dim=0) + 0.3 * torch.randn(12, 4)
    labels = torch.arange(6).repeat_interleave(2)
    ours = IPFLLoss(margin=2.0)(feats, labels, agents)
    expected = _reference_ipfl(feats, agents, margin=2.0)
    torch.testing.assert_close(ours, expected, rtol=1e-5, atol=1e-5)


def test_gradient_reaches_the_features_not_the_agents():
    feats = ROW.clone().requires_grad_()
    agents = AGENTS.clone().requires_grad_()
    IPFLLoss(margin=4.0)(feats, torch.tensor([0]), agents).backward()
    assert feats.grad.abs().sum() > 0
    assert agents.grad is None


def test_bad_inputs():
    with pytest.raises(ValueError, match='one agent row'):
        IPFLLoss()(ROW, torch.tensor([5]), AGENTS)
    with pytest.raises(ValueError, match=r'\(M, E\)'):
        IPFLLoss()(ROW, torch.tensor([0]), torch.zeros(5, 3))
    with pytest.raises(ValueError, match='>= 1'):
        IPFLLoss(nearest=0)
