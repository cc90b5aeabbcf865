"""Run a function on two (or more) gloo ranks in spawned CPU processes.

One helper for every unit test of distributed code, so each test states
only what a rank does. The bootstrap waits on a barrier before it tears the
process group down: a rank that returns first must not destroy its gloo
context while the other rank still talks to it (that aborted a CI run with
``terminate called without an active exception``).

The ranks fork from a forkserver that imported torch, MMEngine and this
package once (:data:`PRELOAD`): a spawned rank spent about 9 s of each test
importing them again (``python -X importtime``, 2 cores). Where the
platform has no forkserver the ranks are spawned.
"""
from typing import Any, Callable, Dict, Sequence

import torch.distributed as torch_dist
import torch.multiprocessing as mp

from tiny_cluster_contrast import free_port

#: Modules the forkserver imports before it forks any rank.
PRELOAD = ('torch', 'torch.distributed', 'mmengine.runner',
           'mmreid_unsup.datasets', 'mmreid_unsup.engine',
           'mmreid_unsup.evaluation', 'mmreid_unsup.models',
           'mmreid_unsup.pseudo_labels')


def start_method() -> str:
    """``'forkserver'`` (with :data:`PRELOAD`) where the platform has it,
    else ``'spawn'``."""
    if 'forkserver' not in mp.get_all_start_methods():
        return 'spawn'
    mp.get_context('forkserver').set_forkserver_preload(list(PRELOAD))
    return 'forkserver'


def _bootstrap(rank: int, fn: Callable[..., Any], port: int, world_size: int,
               args: Sequence[Any], queue) -> None:
    torch_dist.init_process_group(
        'gloo',
        init_method=f'tcp://127.0.0.1:{port}',
        rank=rank,
        world_size=world_size)
    try:
        result = fn(rank, *args)
        torch_dist.barrier()
        queue.put((rank, result))
    finally:
        torch_dist.destroy_process_group()


def run_on_gloo_ranks(fn: Callable[..., Any],
                      *args: Any,
                      world_size: int = 2) -> Dict[int, Any]:
    """Call ``fn(rank, *args)`` on every rank of a fresh gloo group.

    Args:
        fn (Callable): A module-level (picklable) function; its return value
            must be picklable too, and small: the results are read after the
            processes end, so results larger than a pipe's buffer (64 KiB)
            block the ranks forever. Compare in ``fn`` and return verdicts.
        *args: Extra arguments passed to ``fn`` after the rank.
        world_size (int): Number of processes. Defaults to 2.

    Returns:
        dict: ``{rank: fn's return value}``.
    """
    method = start_method()
    queue = mp.get_context(method).SimpleQueue()
    mp.start_processes(
        _bootstrap,
        args=(fn, free_port(), world_size, args, queue),
        nprocs=world_size,
        join=True,
        start_method=method)
    return dict(queue.get() for _ in range(world_size))
