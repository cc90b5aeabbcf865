"""The pending update of a memory gathers every rank's batch (gloo, 2 CPU
processes) so the ranks' banks stay identical."""
import pytest
import torch
from gloo_ranks import run_on_gloo_ranks

from mmreid_unsup.models import ClusterMemory

pytestmark = pytest.mark.dist

# Uneven batch sizes on purpose: 2 samples on rank 0, 3 on rank 1.
FEATS = [[[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [-1.0, 1.0], [0.0, -1.0]]]
LABELS = [[0, 1], [0, 0, 1]]
BANK = [[1.0, 0.0], [0.0, 1.0]]


def _worker(rank: int) -> list:
    memory = ClusterMemory(feat_dim=2)
    memory.bank = torch.tensor(BANK)
    memory(torch.tensor(FEATS[rank]), torch.tensor(LABELS[rank]))
    memory.apply_pending_update()
    return memory.bank.tolist()


def test_ranks_apply_the_same_gathered_update():
    banks = {
        rank: torch.tensor(bank)
        for rank, bank in run_on_gloo_ranks(_worker).items()
    }

    single = ClusterMemory(feat_dim=2)
    single.bank = torch.tensor(BANK)
    single(
        torch.tensor(FEATS[0] + FEATS[1]), torch.tensor(LABELS[0] + LABELS[1]))
    single.apply_pending_update()

    torch.testing.assert_close(banks[0], banks[1])
    torch.testing.assert_close(banks[0], single.bank)
