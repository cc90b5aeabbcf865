"""ProxyMemory under DDP (gloo, 2 CPU processes): the proxies are selected
on rank 0 and broadcast, and the hard update uses every rank's batch."""
import pytest
import torch
import torch.distributed as torch_dist
from gloo_ranks import run_on_gloo_ranks

from mmreid_unsup.models import (BaseProxySelector, ProxyMemory,
                                 cluster_centroids)

pytestmark = pytest.mark.dist

FEATURES = torch.eye(4)
LABELS = torch.tensor([0, 0, 1, 1])
# Uneven batch sizes on purpose: 1 sample on rank 0, 2 on rank 1.
FEATS = [[[1.0, 1.0, 0.0, 0.0]], [[0.0, 0.0, 1.0, 0.0], [2.0, 0.0, 0.0, 1.0]]]
BATCH_LABELS = [[0], [1, 0]]


class RankDependentSelector(BaseProxySelector):
    """Rank 0 takes each cluster's first member, other ranks its last:
    a selection that differs across processes."""

    def refresh_scores(self, features, labels, num_clusters):
        positions = torch.arange(labels.numel(), dtype=features.dtype)
        return positions if torch_dist.get_rank() == 0 else -positions

    def batch_scores(self, feats, labels, proxies, centroids):
        return (feats * proxies[labels]).sum(dim=1)


def _memory() -> ProxyMemory:
    return ProxyMemory(feat_dim=4, selector=dict(type=RankDependentSelector))


def _worker(rank: int) -> tuple:
    memory = _memory()
    memory.init_from_features(FEATURES, LABELS)
    selected = memory.proxy_indices.tolist()
    initial = memory.bank.tolist()
    memory(torch.tensor(FEATS[rank]), torch.tensor(BATCH_LABELS[rank]))
    memory.apply_pending_update()
    return selected, initial, memory.bank.tolist(), memory.centroids.tolist()


def test_rank0_selects_and_ranks_apply_the_same_gathered_update():
    results = run_on_gloo_ranks(_worker)

    # Rank 1's own selector would pick [1, 3]: rank 0's choice won.
    for rank in (0, 1):
        selected, initial, _, _ = results[rank]
        assert selected == [0, 2]
        torch.testing.assert_close(torch.tensor(initial), FEATURES[[0, 2]])

    # One process with both ranks' batches gives the same bank.
    single = _memory()
    single.bank = FEATURES[[0, 2]].clone()
    single.centroids = cluster_centroids(FEATURES, LABELS, 2)
    single(
        torch.tensor(FEATS[0] + FEATS[1]),
        torch.tensor(BATCH_LABELS[0] + BATCH_LABELS[1]))
    single.apply_pending_update()
    for field, expected in ((2, single.bank), (3, single.centroids)):
        banks = [torch.tensor(results[rank][field]) for rank in (0, 1)]
        torch.testing.assert_close(banks[0], banks[1])
        torch.testing.assert_close(banks[0], expected)
    assert not torch.equal(single.bank, FEATURES[[0, 2]])
