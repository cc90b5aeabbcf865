"""The pending update of a memory gathers every rank's batch (gloo, 2 CPU
processes) so the ranks' banks stay identical."""
import socket

import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp

from mmreid_unsup.models import ClusterMemory

# Uneven batch sizes on purpose: 2 samples on rank 0, 3 on rank 1.
FEATS = [[[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [-1.0, 1.0], [0.0, -1.0]]]
LABELS = [[0, 1], [0, 0, 1]]
BANK = [[1.0, 0.0], [0.0, 1.0]]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _worker(rank: int, port: int, result_queue) -> None:
    torch_dist.init_process_group(
        'gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=2)
    try:
        memory = ClusterMemory(feat_dim=2)
        memory.bank = torch.tensor(BANK)
        memory(torch.tensor(FEATS[rank]), torch.tensor(LABELS[rank]))
        memory.apply_pending_update()
        result_queue.put((rank, memory.bank.tolist()))
    finally:
        torch_dist.destroy_process_group()


def test_ranks_apply_the_same_gathered_update():
    ctx = mp.get_context('spawn')
    queue = ctx.SimpleQueue()
    mp.start_processes(
        _worker,
        args=(_free_port(), queue),
        nprocs=2,
        join=True,
        start_method='spawn')
    results = [queue.get() for _ in range(2)]
    banks = {rank: torch.tensor(bank) for rank, bank in results}

    single = ClusterMemory(feat_dim=2)
    single.bank = torch.tensor(BANK)
    single(
        torch.tensor(FEATS[0] + FEATS[1]), torch.tensor(LABELS[0] + LABELS[1]))
    single.apply_pending_update()

    torch.testing.assert_close(banks[0], banks[1])
    torch.testing.assert_close(banks[0], single.bank)
