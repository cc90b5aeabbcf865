"""GSL's memories (global instance memory, patch memory, image agents) stay
identical across two gloo processes and equal a single process that sees
both batches."""
import pytest
import torch
import torch.nn.functional as F
from gloo_ranks import run_on_gloo_ranks

from mmreid_unsup.registry import MODELS

pytestmark = pytest.mark.dist

N, D, S, DP = 12, 6, 2, 4
# Rank 0 and rank 1 hold different images, each with two views.
BATCHES = [[1, 4, 1, 4], [7, 9, 7, 9]]
FIRST = [True, True, False, False]


def _heads():
    torch.manual_seed(0)  # the same embedding directions on every rank
    global_head = MODELS.build(
        dict(
            type='GlobalSimilarityHead',
            memory=dict(type='InstanceMemory', feat_dim=D),
            selector=dict(type='CredibleSampleSelector', num_neighbours=2)))
    patch_head = MODELS.build(
        dict(
            type='PatchHead',
            num_patches=S,
            feat_dim=DP,
            embed_dim=3,
            patch_loss=dict(type='PedalLoss', num_neighbours=2)))
    global_head.init_memory(F.normalize(torch.randn(N, D), dim=1))
    patch_head.init_memories(F.normalize(torch.randn(N, S, DP), dim=2))
    return global_head, patch_head


def _batch(rank):
    gen = torch.Generator().manual_seed(10 + rank)
    feats = F.normalize(torch.randn(4, D, generator=gen), dim=1)
    patches = F.normalize(torch.randn(4, S, DP, generator=gen), dim=2)
    return feats, patches, torch.tensor(BATCHES[rank]), torch.tensor(FIRST)


def _step(heads, batches):
    global_head, patch_head = heads
    for feats, patches, indices, first in batches:
        global_head.loss(feats, indices, first)
        patch_head.loss(patches, indices, first)
    for memory in (global_head.memory, patch_head.patch_memory,
                   patch_head.agent_memory):
        memory.apply_pending_update()


def _banks(heads):
    global_head, patch_head = heads
    return [
        global_head.memory.bank, patch_head.patch_memory.bank,
        patch_head.agent_memory.bank,
        patch_head.agent_memory.seen.float()
    ]


def _worker(rank):
    heads = _heads()
    _step(heads, [_batch(rank)])
    return [bank.tolist() for bank in _banks(heads)]


def test_ranks_keep_identical_memories():
    ranks = run_on_gloo_ranks(_worker)
    heads = _heads()
    # One process with both ranks' batches, rank 0's rows first: the rows
    # the ranks gather, in the same order.
    b0, b1 = _batch(0), _batch(1)
    _step(heads, [tuple(torch.cat([x0, x1]) for x0, x1 in zip(b0, b1))])
    single = _banks(heads)
    for name, a, b, c in zip(('global', 'patch', 'agents', 'seen'), ranks[0],
                             ranks[1], single):
        torch.testing.assert_close(torch.tensor(a), torch.tensor(b), msg=name)
        torch.testing.assert_close(torch.tensor(a), c, msg=name)
    assert torch.tensor(ranks[0][3]).sum() == 4  # images 1, 4, 7, 9 seen
