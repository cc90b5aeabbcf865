"""GlobalSimilarityHead: the GSL loss over credible samples, by hand, and
its memory update."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmreid_unsup.registry import MODELS

BANK = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])


def _head(temperature=1.0, **selector):
    head = MODELS.build(
        dict(
            type='GlobalSimilarityHead',
            memory=dict(type='InstanceMemory', feat_dim=2, momentum=0.5),
            selector=dict(
                type='CredibleSampleSelector',
                num_neighbours=1,
                rules=[],
                **selector),
            loss=dict(
                type='MultiPositiveMemoryLoss',
                temperature=temperature,
                self_weight=1.0,
                neighbour_weight=1.0)))
    head.init_memory(BANK)
    return head


def test_loss_pulls_to_own_entry_and_credible_samples():
    head = _head()
    # Image 0's credible sample is entry 1 (similarity 0 beats -1).
    losses = head.loss(torch.tensor([[1.0, 0.0]]), torch.tensor([0]))
    log_z = math.log(math.e + 1 + math.exp(-1))
    expected = -(1 - log_z) - (0 - log_z)
    assert math.isclose(float(losses['loss_global']), expected, rel_tol=1e-5)
    assert float(losses['credible_per_image']) == 1.0
    assert float(losses['acc_global']) == 1.0
    # In the warm-up the image is its own class only.
    head = _head(warmup_epochs=1)
    losses = head.loss(torch.tensor([[1.0, 0.0]]), torch.tensor([0]))
    assert math.isclose(
        float(losses['loss_global']), -(1 - log_z), rel_tol=1e-5)


def test_only_masked_rows_move_the_memory():
    head = _head()
    view0 = F.normalize(torch.tensor([[1.0, 1.0]]), dim=1)
    view1 = torch.tensor([[0.0, -1.0]])
    head.loss(
        torch.cat([view0, view1]), torch.tensor([0, 0]),
        update_mask=torch.tensor([True, False]))
    head.memory.apply_pending_update()
    expected = F.normalize(0.5 * BANK[0] + 0.5 * view0[0], dim=0)
    torch.testing.assert_close(head.memory.bank[0], expected)
    torch.testing.assert_close(head.memory.bank[1:], BANK[1:])


def test_neighbour_stats_against_true_ids():
    head = _head()
    # Credible samples: 0 -> 1, 1 -> 0 (tie with 2 broken by topk), 2 -> 1.
    stats = head.neighbour_stats(
        torch.tensor([5, 5, 6]), camids=torch.tensor([0, 1, 1]))
    assert stats['credible_per_image'] == 1.0
    assert 0.0 <= stats['credible_precision'] <= 1.0
    credible = head.select(torch.arange(3))[:, 1]
    pids = torch.tensor([5, 5, 6])
    assert stats['credible_precision'] == pytest.approx(
        float((pids[credible] == pids).float().mean()))


def test_empty_memory_and_parts_are_refused():
    head = MODELS.build(
        dict(
            type='GlobalSimilarityHead',
            memory=dict(type='InstanceMemory', feat_dim=2)))
    with pytest.raises(RuntimeError, match='InstanceMemoryHook'):
        head.loss(torch.zeros(1, 2), torch.tensor([0]))
    with pytest.raises(ValueError, match='num_parts=None'):
        MODELS.build(
            dict(
                type='GlobalSimilarityHead',
                memory=dict(type='InstanceMemory', feat_dim=2, num_parts=2)))
