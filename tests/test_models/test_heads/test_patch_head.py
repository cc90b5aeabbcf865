"""PatchHead: PAUL's embedding, agents of the views, losses and updates."""
import pytest
import torch
import torch.nn.functional as F

from mmreid_unsup.models.losses import IPFLLoss, PedalLoss
from mmreid_unsup.registry import MODELS

S, D, E, N = 2, 4, 3, 10


def _head(**kwargs):
    cfg = dict(
        type='PatchHead',
        num_patches=S,
        feat_dim=D,
        embed_dim=E,
        patch_loss=dict(type='PedalLoss', scale=5.0, num_neighbours=3),
        image_loss=dict(type='IPFLLoss', margin=2.0))
    cfg.update(kwargs)
    head = MODELS.build(cfg)
    torch.manual_seed(0)
    head.init_memories(F.normalize(torch.randn(N, S, D), dim=2))
    return head


def test_embedding_is_paul_s_cosines_and_frozen_by_default():
    head = _head()
    assert not head.embedding.requires_grad
    assert _head(embedding_trainable=True).embedding.requires_grad
    p = F.normalize(torch.randn(5, S, D), dim=2)
    e = head.embed(p)
    assert e.shape == (5, S * E)
    directions = F.normalize(head.embedding, dim=2)
    torch.testing.assert_close(e[:, E:2 * E], p[:, 1] @ directions[1].t())
    assert float(e.abs().max()) <= 1 + 1e-6


def test_losses_use_first_views_and_view_means():
    head = _head()
    p = F.normalize(torch.randn(6, S, D), dim=2)
    indices = torch.tensor([3, 5, 7, 3, 5, 7])  # two views of 3 images
    first = torch.tensor([True, True, True, False, False, False])
    losses = head.loss(p, indices, first)
    expected_patch = PedalLoss(scale=5.0, num_neighbours=3)(
        p[:3], head.patch_memory.bank, indices[:3])
    torch.testing.assert_close(losses['loss_patch'], expected_patch)
    # Never-seen images: the agents are the means of their two views.
    e = head.embed(p)
    agents = (e[:3] + e[3:]) / 2
    expected_image = IPFLLoss(margin=2.0)(e, torch.tensor([0, 1, 2] * 2),
                                          agents)
    torch.testing.assert_close(losses['loss_image'], expected_image)


def test_pending_updates_after_the_step():
    head = _head()
    bank = head.patch_memory.bank.clone()
    p = F.normalize(torch.randn(4, S, D), dim=2)
    indices = torch.tensor([1, 2, 1, 2])
    first = torch.tensor([True, True, False, False])
    head.loss(p, indices, first)
    torch.testing.assert_close(head.patch_memory.bank, bank)
    for memory in (head.patch_memory, head.agent_memory):
        memory.apply_pending_update()
    expected = F.normalize(0.9 * bank[1] + 0.1 * p[0], dim=-1)
    torch.testing.assert_close(head.patch_memory.bank[1], expected)
    assert head.agent_memory.seen.tolist() == [
        False, True, True, False, False, False, False, False, False, False
    ]
    e = head.embed(p)
    torch.testing.assert_close(head.agent_memory.bank[2], (e[1] + e[3]) / 2)


def test_either_loss_can_be_dropped():
    head = _head(image_loss=None)
    assert head.agent_memory is None and head.embedding is None
    p = F.normalize(torch.randn(2, S, D), dim=2)
    assert set(head.loss(p, torch.tensor([0, 1]))) == {'loss_patch'}
    head = _head(patch_loss=None)
    assert set(head.loss(p, torch.tensor([0, 1]))) == {'loss_image'}
    with pytest.raises(ValueError, match='both None'):
        _head(patch_loss=None, image_loss=None)


def test_neighbour_stats():
    head = _head()
    pids = torch.arange(N) // 2
    stats = head.neighbour_stats(pids)
    bank = head.patch_memory.bank
    sims = torch.einsum('isd,jsd->ij', bank, bank).fill_diagonal_(-10)
    nbrs = sims.topk(3, dim=1).indices
    expected = float((pids[nbrs] == pids[:, None]).float().mean())
    assert stats['patch_precision'] == pytest.approx(expected)
