"""PPSSLHead: surrogate and pair losses against hand-computed values, the
diversity loss, in-batch pairs, the inter loss and the memory updates."""
import pytest
import torch
import torch.nn.functional as F

from mmreid_unsup.models import PPSSLHead


def _head(**kwargs) -> PPSSLHead:
    cfg = dict(
        patch_memory=dict(
            type='InstanceMemory', feat_dim=2, num_parts=2, momentum=0.5),
        global_memory=dict(type='InstanceMemory', feat_dim=2, momentum=0.5),
        patch_loss=dict(
            type='MultiPositiveMemoryLoss', temperature=0.5, self_weight=1.0,
            neighbour_weight=1.0),
        global_loss=dict(
            type='MultiPositiveMemoryLoss', temperature=0.5, self_weight=1.0,
            neighbour_weight=1.0),
        alignment=dict(
            type='CrossImageAlignment', in_channels=3, channels=2,
            num_patches=2),
        pair_start_epoch=1,
        intra_weight=0.1,
        inter_weight=0.5,
        inter_margin=0.3)
    cfg.update(kwargs)
    return PPSSLHead(**cfg)


ANGLES = torch.tensor([0.0, 0.3, 1.6, 2.0])
GLOBAL_BANK = torch.stack([ANGLES.cos(), ANGLES.sin()], dim=1)
PATCH_BANK = torch.stack([GLOBAL_BANK, GLOBAL_BANK.flip(1)], dim=1)


def _inputs(indices):
    gen = torch.Generator().manual_seed(0)
    num = len(indices)
    global_feats = F.normalize(torch.randn(num, 2, generator=gen), dim=1)
    patch_feats = F.normalize(torch.randn(num, 2, 2, generator=gen), dim=2)
    attended = torch.rand(num, 2, 3, generator=gen)
    maps = torch.randn(num, 3, 4, 2, generator=gen)
    return maps, global_feats, attended, patch_feats


def _log_p(feats, bank, temperature=0.5):
    return F.log_softmax(feats @ bank.t() / temperature, dim=-1)


def test_stage_a_is_patch_surrogate_classes():
    head = _head()
    head.init_memories(GLOBAL_BANK, PATCH_BANK)
    indices = torch.tensor([2, 0])
    partners = torch.tensor([[3, -1], [1, -1]])
    maps, g, attended, patches = _inputs(indices)
    losses = head.loss(maps, g, attended, patches, indices, partners, epoch=0)
    # Every (image, patch) is its own class: -log p(own entry), averaged.
    expected_patch = -sum(
        _log_p(patches[b, p], PATCH_BANK[:, p])[indices[b]]
        for b in range(2) for p in range(2)) / 4
    expected_global = -sum(
        _log_p(g[b], GLOBAL_BANK)[indices[b]] for b in range(2)) / 2
    torch.testing.assert_close(losses['loss_patch'], expected_patch)
    torch.testing.assert_close(losses['loss_global'], expected_global)
    assert losses['loss_inter'].item() == 0.0  # no pairs in stage A
    assert losses['num_inter_pairs'].item() == 0.0


def test_stage_b_adds_the_pseudo_partners():
    head = _head()
    head.init_memories(GLOBAL_BANK, PATCH_BANK)
    indices = torch.tensor([2, 0])
    partners = torch.tensor([[3, 1], [1, -1]])
    maps, g, attended, patches = _inputs(indices)
    losses = head.loss(maps, g, attended, patches, indices, partners, epoch=1)
    log_p0, log_p1 = _log_p(g[0], GLOBAL_BANK), _log_p(g[1], GLOBAL_BANK)
    # -log p(self) - mean over the valid partners of log p(partner).
    expected = (-(log_p0[2] + (log_p0[3] + log_p0[1]) / 2) -
                (log_p1[0] + log_p1[1])) / 2
    torch.testing.assert_close(losses['loss_global'], expected)


def test_diversity_of_the_attended_patches():
    attended = torch.tensor([[[1.0, 0.0], [1.0, 1.0]]])
    # One off-diagonal pair, both orders: cos^2 = 1/2.
    assert PPSSLHead.diversity(attended).item() == pytest.approx(0.5)
    orthogonal = torch.tensor([[[1.0, 0.0], [0.0, 2.0]]])
    assert PPSSLHead.diversity(orthogonal).item() == 0.0
    head = _head()
    head.init_memories(GLOBAL_BANK, PATCH_BANK)
    maps, g, _, patches = _inputs([0, 1])
    losses = head.loss(maps, g, attended.expand(2, 2, 2).contiguous(),
                       patches, torch.tensor([0, 1]),
                       torch.full((2, 1), -1), epoch=0)
    assert losses['loss_intra'].item() == pytest.approx(0.1 * 0.5)
    no_intra = _head(intra_weight=0.0)
    no_intra.init_memories(GLOBAL_BANK, PATCH_BANK)
    assert 'loss_intra' not in no_intra.loss(
        maps, g, attended.expand(2, 2, 2), patches, torch.tensor([0, 1]),
        torch.full((2, 1), -1), epoch=0)


def test_batch_pairs_positive_and_hardest_negative():
    indices = torch.tensor([10, 11, 12, 13])
    partners = torch.tensor([
        [99, 12],  # 99 is not in the batch: 12 is the positive
        [-1, -1],  # no partner
        [10, -1],
        [11, 12],  # 11 first
    ])
    feats = F.normalize(torch.tensor([
        [1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.5, 0.5]]), dim=1)
    anchors, positive, negative = PPSSLHead.batch_pairs(
        indices, partners, feats)
    assert anchors.tolist() == [0, 2, 3]
    assert positive.tolist() == [2, 0, 1]
    # Hardest non-partner by global similarity: 0 -> 1 (0.99), 2 -> 3,
    # 3 -> 0 (its partners 1 and 2 excluded).
    assert negative.tolist() == [1, 3, 0]


def test_inter_loss_on_aligned_pairs():
    head = _head().eval()
    head.init_memories(GLOBAL_BANK, PATCH_BANK)
    indices = torch.tensor([0, 1, 2])
    partners = torch.tensor([[1], [0], [-1]])
    maps, _, attended, patches = _inputs(indices)
    g = F.normalize(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.1]]), 1)
    losses = head.loss(maps, g, attended, patches, indices, partners, epoch=1)
    sim = head.alignment
    s_01, s_02 = sim(maps[[0]], maps[[1]]), sim(maps[[0]], maps[[2]])
    s_10, s_12 = sim(maps[[1]], maps[[0]]), sim(maps[[1]], maps[[2]])
    expected = 0.5 * ((2 - s_01 - s_10) / 2 +
                      (F.relu(s_02 - 0.3) + F.relu(s_12 - 0.3)) / 2)
    torch.testing.assert_close(losses['loss_inter'], expected.squeeze())
    assert losses['num_inter_pairs'].item() == 2


def test_memories_move_after_the_step_only():
    head = _head()
    head.init_memories(GLOBAL_BANK, PATCH_BANK)
    indices = torch.tensor([1])
    maps, g, attended, patches = _inputs(indices)
    head.loss(maps, g, attended, patches, indices, torch.tensor([[-1]]), 0)
    torch.testing.assert_close(head.global_memory.bank, GLOBAL_BANK)
    head.global_memory.apply_pending_update()
    head.patch_memory.apply_pending_update()
    torch.testing.assert_close(head.global_memory.bank[1],
                               F.normalize(GLOBAL_BANK[1] + g[0], dim=0))
    torch.testing.assert_close(
        head.patch_memory.bank[1],
        F.normalize(PATCH_BANK[1] + patches[0], dim=1))
    torch.testing.assert_close(head.global_memory.bank[0], GLOBAL_BANK[0])


def test_ablations_and_errors():
    assert _head(alignment=None).alignment is None
    assert _head(inter_weight=0.0).alignment is None
    with pytest.raises(ValueError, match='num_parts'):
        _head(patch_memory=dict(type='InstanceMemory', feat_dim=2))
    with pytest.raises(ValueError, match='intra_weight'):
        _head(intra_weight=-1.0)
    head = _head()
    maps, g, attended, patches = _inputs([0])
    with pytest.raises(RuntimeError, match='memories are empty'):
        head.loss(maps, g, attended, patches, torch.tensor([0]),
                  torch.tensor([[-1]]), 0)
