"""AgentMemory: first sight, moving average, pending updates, resizing."""
import pytest
import torch

from mmreid_unsup.models.memories import AgentMemory


def test_first_sight_then_moving_average():
    memory = AgentMemory(feat_dim=2, momentum=0.9)
    memory.reset(3)
    feats = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    indices = torch.tensor([2, 0])
    # Never seen: the agents are the features themselves.
    torch.testing.assert_close(memory(feats, indices), feats)
    memory.record_pending_update(feats, indices)
    assert memory.seen.tolist() == [False, False, False]  # not yet applied
    memory.apply_pending_update()
    assert memory.seen.tolist() == [True, False, True]
    torch.testing.assert_close(memory.bank[[2, 0]], feats)
    # Seen: 0.9 old + 0.1 new, not normalised.
    new = torch.tensor([[11.0, 12.0], [0.0, 0.0]])
    expected = torch.tensor([[0.9 * 1 + 1.1, 0.9 * 2 + 1.2], [0.0, 0.0]])
    torch.testing.assert_close(
        memory(new, torch.tensor([2, 1])), expected)


def test_repeated_indices_apply_in_order():
    memory = AgentMemory(feat_dim=1, momentum=0.5)
    memory.reset(2)
    memory.record_pending_update(
        torch.tensor([[4.0], [2.0], [8.0]]), torch.tensor([0, 0, 1]))
    memory.apply_pending_update()
    # Entry 0: first 4, then 0.5 * 4 + 0.5 * 2.
    assert memory.bank.flatten().tolist() == [3.0, 8.0]


def test_checkpoint_resizes_bank_and_seen():
    memory = AgentMemory(feat_dim=2)
    memory.reset(4)
    memory.init_from_features(torch.ones(4, 2))
    fresh = AgentMemory(feat_dim=2)
    fresh.load_state_dict(memory.state_dict())
    assert fresh.num_instances == 4 and bool(fresh.seen.all())


def test_errors_name_the_problem():
    memory = AgentMemory(feat_dim=2)
    with pytest.raises(IndexError, match='InstanceMemoryHook'):
        memory(torch.zeros(1, 2), torch.tensor([0]))
    memory.reset(2)
    with pytest.raises(ValueError, match=r'\(\*, 2\)'):
        memory(torch.zeros(1, 3), torch.tensor([0]))
    with pytest.raises(ValueError, match='momentum'):
        AgentMemory(feat_dim=2, momentum=1.5)
