"""SCLHead: the losses and the three memory updates against a re-creation
of SCL's reference training step (engine/trainer.py, loss.py,
memory_bank.py), whose mixture update runs inside autograd's backward."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import autograd

from mmreid_unsup.registry import MODELS

S, DL, DG, N = 2, 4, 8, 30


class _Exclusive(autograd.Function):
    """SCL's ``Exclusive`` in today's static form: logits against the memory
    rows of each anchor's candidates; the backward computes the gradient
    with the memory as it is *then* and updates the positive slot's rows."""

    @staticmethod
    def forward(ctx, inputs, index, positive_index, memory):
        ctx.save_for_backward(inputs, index, positive_index)
        ctx.memory = memory
        return torch.stack(
            [inputs[i] @ memory[index[i]].t() for i in range(len(inputs))])

    @staticmethod
    def backward(ctx, grad_outputs):
        inputs, index, positive_index = ctx.saved_tensors
        memory = ctx.memory
        grad = torch.stack([
            grad_outputs[i] @ memory[index[i]] for i in range(len(inputs))
        ])
        for x, y in zip(inputs, positive_index):
            memory[y] = F.normalize((memory[y] + x) / 2, p=2, dim=0)
        return grad, None, None, None


def _reference_step(global_feats, local_feats, positives, negatives, memory,
                    lambda_t, alpha, lambda_p, t=10.0):
    """``loss_fn`` for both branches and the backward pass; returns the loss
    and updates ``memory`` in place."""
    index_list = torch.cat([positives, negatives], dim=1)
    num_pos = positives.size(1) - 1
    cof = np.zeros(num_pos + 1)
    cof[0] = lambda_t
    cof[1:] = alpha * (1 - lambda_t) / max(num_pos, 1)

    def branch(inputs):
        loss = 0
        for j in range(num_pos + 1):
            logits = _Exclusive.apply(inputs, index_list, index_list[:, j],
                                      memory) * t
            target = torch.full((len(inputs), ), j)
            loss += cof[j] * F.cross_entropy(logits, target)
        return loss

    loss_g = branch(global_feats)
    loss_l = branch(torch.cat(list(local_feats.transpose(0, 1)), dim=1))
    loss = lambda_p * loss_l + (1 - lambda_p) * loss_g
    loss.backward()
    return loss


def _head(warmup_epochs=0, lambda_c=0.05):
    return MODELS.build(
        dict(
            type='SCLHead',
            global_memory=dict(type='InstanceMemory', feat_dim=DG),
            local_memory=dict(type='InstanceMemory', feat_dim=DL, num_parts=S),
            mixture_memory=dict(
                type='InstanceMemory', feat_dim=DG, init='zeros'),
            selector=dict(
                type='NeighbourSelector',
                num_positives=3,
                num_negatives=6,
                lambda_c=lambda_c,
                warmup_epochs=warmup_epochs),
            loss=dict(
                type='MultiPositiveMemoryLoss',
                temperature=0.1,
                self_weight=0.5,
                neighbour_weight=0.875),
            local_loss_weight=0.3))


def _batch(seed=0, batch=6):
    gen = torch.Generator().manual_seed(seed)
    g = F.normalize(torch.randn(batch, DG, generator=gen), dim=1)
    local = F.normalize(torch.randn(batch, S, DL, generator=gen), dim=2)
    return g, local


def _init(head, seed=0):
    gen = torch.Generator().manual_seed(seed + 100)
    head.init_memories(
        torch.randn(N, DG, generator=gen), torch.randn(N, S, DL,
                                                       generator=gen),
        torch.randint(0, 3, (N, ), generator=gen))


def test_init_memories():
    head = _head()
    _init(head)
    assert head.num_instances == N
    assert torch.allclose(head.global_memory.bank.norm(dim=1), torch.ones(N))
    assert torch.allclose(
        head.local_memory.bank.norm(dim=2), torch.ones(N, S))
    assert torch.equal(head.mixture_memory.bank, torch.zeros(N, DG))
    assert head.camids.shape == (N, )


@pytest.mark.parametrize('warmup', [False, True])
def test_step_matches_reference(warmup):
    head = _head(warmup_epochs=1)
    _init(head)
    # A trained-looking mixture memory, so that the loss is not trivial.
    head.mixture_memory.bank = F.normalize(torch.randn(N, DG), dim=1)
    start = {
        name: getattr(head, name).bank.clone()
        for name in ('global_memory', 'local_memory', 'mixture_memory')
    }
    g, local = _batch()
    indices = torch.tensor([3, 17, 0, 29, 8, 11])
    epoch = 0 if warmup else 1

    torch.manual_seed(5)
    selection = head.select(g, local, indices, epoch)
    g_ours = g.clone().requires_grad_()
    l_ours = local.clone().requires_grad_()
    torch.manual_seed(5)  # the same warm-up draw
    losses = head.loss(g_ours, l_ours, indices, epoch)
    total = losses['loss_local'] + losses['loss_global']
    total.backward()
    for memory in (head.mixture_memory, head.global_memory,
                   head.local_memory):
        memory.apply_pending_update()

    # The reference step with the same selection and starting memories.
    g_ref = g.clone().requires_grad_()
    l_ref = local.clone().requires_grad_()
    mixture = start['mixture_memory'].clone()
    loss_ref = _reference_step(g_ref, l_ref, selection.positives,
                               selection.negatives, mixture, lambda_t=0.5,
                               alpha=1.75, lambda_p=0.3)
    assert torch.allclose(total, loss_ref.float(), atol=1e-5)
    assert torch.allclose(head.mixture_memory.bank, mixture, atol=1e-6)
    # G and L: normalize(0.5 v + 0.5 f) at the anchors' own entries.
    expected_g = start['global_memory'].clone()
    expected_g[indices] = F.normalize(
        0.5 * expected_g[indices] + 0.5 * g, dim=1)
    expected_l = start['local_memory'].clone()
    expected_l[indices] = F.normalize(
        0.5 * expected_l[indices] + 0.5 * local, dim=2)
    assert torch.allclose(head.global_memory.bank, expected_g, atol=1e-6)
    assert torch.allclose(head.local_memory.bank, expected_l, atol=1e-6)
    # Gradients: ours are those of the forward pass (memory before any
    # update). The reference's backward updates the memory slot by slot and
    # computes later slots' gradients with the updated rows; its first slot
    # (the local branch's last positive) still sees the forward's memory.
    # With the warm-up's single (self) slot the local gradients agree.
    if warmup:
        assert selection.positives.shape == (6, 1)
        assert torch.allclose(l_ours.grad, l_ref.grad, atol=1e-5)


def test_losses_and_diagnostics():
    head = _head()
    _init(head)
    g, local = _batch(1)
    out = head.loss(g, local, torch.arange(6), epoch=0)
    assert set(out) == {'loss_local', 'loss_global', 'acc_local',
                        'acc_global'}
    assert 0 <= float(out['acc_local']) <= 1
    # Eval mode records no update.
    head.eval()
    head.mixture_memory.clear_pending_update()
    head.loss(g, local, torch.arange(6), epoch=0)
    assert not head.mixture_memory.has_pending_update


def test_empty_memories_are_a_clear_error():
    g, local = _batch()
    with pytest.raises(RuntimeError, match='InstanceMemoryHook'):
        _head().loss(g, local, torch.arange(6), epoch=0)


def test_mismatched_mixture_size_is_a_clear_error():
    with pytest.raises(ValueError, match='sizes must agree'):
        MODELS.build(
            dict(
                type='SCLHead',
                global_memory=dict(type='InstanceMemory', feat_dim=8),
                local_memory=dict(
                    type='InstanceMemory', feat_dim=2, num_parts=2),
                mixture_memory=dict(type='InstanceMemory', feat_dim=8)))


def test_neighbour_stats_against_true_identities():
    head = _head(lambda_c=0.0)
    # Three identities of 4 images each, identity k near axis k; cameras
    # alternate, so half of the other members are cross-camera.
    num = 12
    pids = torch.arange(num) // 4
    g = F.one_hot(pids, DG).float() + 0.01 * torch.randn(num, DG)
    local = F.one_hot(pids % DL, DL).float().unsqueeze(1).repeat(1, S, 1)
    local = local + 0.01 * torch.randn(num, S, DL)
    head.init_memories(g, local, torch.arange(num) % 2)
    stats = head.neighbour_stats(pids, chunk_size=5)
    # 3 positives each: exactly the 3 other members of the identity.
    assert stats['pos_precision'] == pytest.approx(1.0)
    assert stats['pos_cross_camera'] == pytest.approx(2 / 3)
