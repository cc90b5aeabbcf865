"""ProxyMemory under DDP (gloo, 2 CPU processes): the proxies are selected
on rank 0 and broadcast, and the hard update uses every rank's batch."""
import socket

import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp

from mmreid_unsup.models import BaseProxySelector, ProxyMemory

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

    def batch_scores(self, feats, labels, proxies):
        return (feats * proxies[labels]).sum(dim=1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _memory() -> ProxyMemory:
    return ProxyMemory(feat_dim=4, selector=dict(type=RankDependentSelector))


def _worker(rank: int, port: int, result_queue) -> None:
    torch_dist.init_process_group(
        'gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=2)
    try:
        memory = _memory()
        memory.init_from_features(FEATURES, LABELS)
        selected = memory.proxy_indices.tolist()
        initial = memory.bank.tolist()
        memory(torch.tensor(FEATS[rank]), torch.tensor(BATCH_LABELS[rank]))
        memory.apply_pending_update()
        result_queue.put((rank, selected, initial, memory.bank.tolist()))
    finally:
        torch_dist.destroy_process_group()


def test_rank0_selects_and_ranks_apply_the_same_gathered_update():
    ctx = mp.get_context('spawn')
    queue = ctx.SimpleQueue()
    mp.start_processes(
        _worker,
        args=(_free_port(), queue),
        nprocs=2,
        join=True,
        start_method='spawn')
    results = {rank: rest for rank, *rest in (queue.get() for _ in range(2))}

    # Rank 1's own selector would pick [1, 3]: rank 0's choice won.
    for rank in (0, 1):
        selected, initial, _ = results[rank]
        assert selected == [0, 2]
        torch.testing.assert_close(torch.tensor(initial), FEATURES[[0, 2]])

    # One process with both ranks' batches gives the same bank.
    single = _memory()
    single.bank = FEATURES[[0, 2]].clone()
    single(
        torch.tensor(FEATS[0] + FEATS[1]),
        torch.tensor(BATCH_LABELS[0] + BATCH_LABELS[1]))
    single.apply_pending_update()
    banks = [torch.tensor(results[rank][2]) for rank in (0, 1)]
    torch.testing.assert_close(banks[0], banks[1])
    torch.testing.assert_close(banks[0], single.bank)
    assert not torch.equal(single.bank, FEATURES[[0, 2]])
