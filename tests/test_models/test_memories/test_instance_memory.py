"""InstanceMemory: initialisation, similarities and the momentum updates of
SCL's reference code (engine/memory_bank.py and engine/loss.py)."""
import pytest
import torch
import torch.nn.functional as F

from mmreid_unsup.models.memories import InstanceMemory


def _reference_bank_update(bank, index, feats):
    """``MemoryBank.update``: vectorised ``normalize(0.5 v + 0.5 f)``.

    For the local bank the reference keeps ``(S, N, D)``; here ``(N, S, D)``
    and the normalisation is over the last dimension either way.
    """
    bank = bank.clone()
    bank[index] = 0.5 * bank[index] + 0.5 * feats
    bank[index] = F.normalize(bank[index], p=2, dim=-1)
    return bank


def _reference_mixture_update(memory, branches, positives):
    """The updates of ``Exclusive.backward`` in the order autograd runs them.

    ``loss = lambda_p * loss_l + (1 - lambda_p) * loss_g`` with ``loss_g``
    built first: the backward visits the local branch first, and within a
    branch the positive slots from the last to the first (self); each slot
    updates ``M[y] = normalize((M[y] + x) / 2)`` for the batch in order.
    """
    memory = memory.clone()
    for inputs in branches:  # (local, global)
        for j in reversed(range(positives.size(1))):
            for x, y in zip(inputs, positives[:, j]):
                memory[y] = F.normalize((memory[y] + x) / 2, p=2, dim=0)
    return memory


def test_init_from_features_or_zeros():
    feats = torch.randn(5, 3, 4)
    memory = InstanceMemory(feat_dim=4, num_parts=3)
    memory.init_from_features(feats)
    assert memory.num_instances == 5
    assert torch.allclose(memory.bank, F.normalize(feats, dim=2))
    zeros = InstanceMemory(feat_dim=12, init='zeros')
    zeros.init_from_features(feats.flatten(1))
    assert torch.equal(zeros.bank, torch.zeros(5, 12))
    with pytest.raises(ValueError, match='shape'):
        memory.init_from_features(torch.randn(5, 12))


def test_similarities_with_all_entries_or_candidates():
    memory = InstanceMemory(feat_dim=2, num_parts=2)
    memory.init_from_features(torch.randn(6, 2, 2))
    feats = torch.randn(3, 2, 2, requires_grad=True)
    full = memory(feats)
    expected = torch.einsum('bsd,nsd->bn', feats, memory.bank)
    assert torch.allclose(full, expected, atol=1e-6)
    candidates = torch.tensor([[0, 5, 5], [1, 2, 3], [4, 4, 0]])
    picked = memory(feats, candidates)
    assert torch.allclose(picked, expected.gather(1, candidates))
    picked.sum().backward()  # features get gradients, the bank none
    assert feats.grad is not None and not memory.bank.requires_grad
    assert not memory.has_pending_update  # forward records nothing


def test_empty_memory_is_a_clear_error():
    with pytest.raises(RuntimeError, match='empty'):
        InstanceMemory(feat_dim=4)(torch.randn(2, 4))


def test_self_update_matches_reference_memory_bank():
    torch.manual_seed(0)
    global_mem = InstanceMemory(feat_dim=8, momentum=0.5)
    local_mem = InstanceMemory(feat_dim=4, num_parts=3, momentum=0.5)
    global_mem.init_from_features(torch.randn(10, 8))
    local_mem.init_from_features(torch.randn(10, 3, 4))
    before_g, before_l = global_mem.bank.clone(), local_mem.bank.clone()
    index = torch.tensor([7, 2, 9, 0])
    g = F.normalize(torch.randn(4, 8), dim=1)
    local = F.normalize(torch.randn(4, 3, 4), dim=2)
    global_mem.record_pending_update(g, index)
    local_mem.record_pending_update(local, index)
    global_mem.apply_pending_update()
    local_mem.apply_pending_update()
    assert torch.allclose(global_mem.bank,
                          _reference_bank_update(before_g, index, g))
    assert torch.allclose(local_mem.bank,
                          _reference_bank_update(before_l, index, local))
    untouched = [1, 3, 4, 5, 6, 8]
    assert torch.equal(global_mem.bank[untouched], before_g[untouched])


def test_mixture_update_matches_reference_backward_order():
    torch.manual_seed(1)
    num, dim, batch = 12, 6, 5
    memory = InstanceMemory(feat_dim=dim, momentum=0.5, init='zeros')
    memory.init_from_features(torch.randn(num, dim))
    # Start from a non-trivial bank so that the order matters.
    memory.bank = F.normalize(torch.randn(num, dim), dim=1)
    start = memory.bank.clone()
    # Overlapping positives (shared neighbours, anchors that are others'
    # neighbours): the sequential order decides the result.
    positives = torch.tensor([[0, 3, 4, 5], [3, 0, 4, 6], [7, 4, 4, 0],
                              [8, 9, 3, 4], [10, 11, 0, 3]])
    local = F.normalize(torch.randn(batch, dim), dim=1) * 2  # norm sqrt(S)
    global_ = F.normalize(torch.randn(batch, dim), dim=1)
    memory.record_pending_update(local, positives)
    memory.record_pending_update(global_, positives)
    memory.apply_pending_update()
    expected = _reference_mixture_update(start, (local, global_), positives)
    assert torch.allclose(memory.bank, expected, atol=1e-6)
    assert not memory.has_pending_update


def test_zero_init_first_update_is_the_feature():
    memory = InstanceMemory(feat_dim=3, init='zeros')
    memory.init_from_features(torch.randn(4, 3))
    feat = torch.tensor([[0.0, 3.0, 4.0]])
    memory.record_pending_update(feat, torch.tensor([[2, -1]]))
    memory.apply_pending_update()
    assert torch.allclose(memory.bank[2], torch.tensor([0.0, 0.6, 0.8]))
    assert torch.equal(memory.bank[[0, 1, 3]], torch.zeros(3, 3))


def test_out_of_range_index_is_a_clear_error():
    memory = InstanceMemory(feat_dim=3)
    memory.init_from_features(torch.randn(4, 3))
    memory.record_pending_update(torch.randn(1, 3), torch.tensor([4]))
    with pytest.raises(ValueError, match='out of range'):
        memory.apply_pending_update()


def test_resizes_on_load():
    memory = InstanceMemory(feat_dim=4, num_parts=2)
    memory.init_from_features(torch.randn(7, 2, 4))
    fresh = InstanceMemory(feat_dim=4, num_parts=2)
    fresh.load_state_dict(memory.state_dict())
    assert torch.equal(fresh.bank, memory.bank)
