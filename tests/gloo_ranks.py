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

:func:`train_on_gloo_ranks` runs ``tools/train.py --launcher pytorch`` the
same way, for the tests of a method's state under DDP: a run under
``tools/dist_train.sh`` (torchrun and two fresh interpreters) cost about
11 s of start-up and shutdown for 3 s of training. Its ranks get the
variables torchrun gives a worker, but not the rest of a launch: they
inherit the forkserver's environment and working directory, end with
``os._exit`` (no interpreter shutdown), and a rank that dies of a signal
is reported without its output. ``tools/dist_train.sh`` itself, the
shutdown and the fault reports are tested in ``tests/test_tools/``
(``test_dist_train.py``, ``test_dist_faults.py``,
``test_resume_after_kill.py``).
"""
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, Sequence

import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp

from tiny_cluster_contrast import REPO_ROOT, free_port, load_script

#: Modules the forkserver imports before it forks any rank.
PRELOAD = ('torch', 'torch.distributed', 'mmengine.runner',
           'mmreid_unsup.datasets', 'mmreid_unsup.engine',
           'mmreid_unsup.evaluation', 'mmreid_unsup.models',
           'mmreid_unsup.pseudo_labels', 'sklearn.cluster',
           'sklearn.metrics')


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


def _train_rank(rank: int, world_size: int, port: int, argv: Sequence[str],
                module_dir: str) -> None:
    """One rank of :func:`train_on_gloo_ranks`: the environment torchrun
    gives a worker, then ``tools/train.py``'s ``main``."""
    os.environ.update(
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world_size),
        LOCAL_WORLD_SIZE=str(world_size),
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=str(port),
        OMP_NUM_THREADS='1',
        CUDA_VISIBLE_DEVICES='')  # gloo on CPU, as run_dist_train's
    torch.set_num_threads(1)  # as tools/dist_train.sh's OMP_NUM_THREADS=1
    sys.path.insert(0, module_dir)
    sys.argv = ['tools/train.py', *argv, '--launcher', 'pytorch']
    load_script(REPO_ROOT / 'tools' / 'train.py', 'train_tool').main()


#: Seconds a :func:`train_on_gloo_ranks` run may take (as run_dist_train's).
TRAIN_TIMEOUT = 600


def train_on_gloo_ranks(config: Path,
                        work_dir: Path,
                        module_dir: Path,
                        world_size: int = 2) -> str:
    """Train ``config`` with ``tools/train.py --launcher pytorch`` on
    ``world_size`` gloo ranks forked from the preloaded forkserver.

    Args:
        config (Path): The training config.
        work_dir (Path): The run's work dir (``--work-dir``).
        module_dir (Path): A folder put first on each rank's ``sys.path``,
            for the probe modules a config's ``custom_imports`` names.
        world_size (int): Number of ranks. Defaults to 2.

    Returns:
        str: The run's log files (MMEngine's, in the work dir), joined.

    Raises:
        torch.multiprocessing.ProcessRaisedException: A rank raised; the
            message holds its traceback.
        torch.multiprocessing.ProcessExitedException: A rank died (a
            signal, ``os._exit``) without raising.
        TimeoutError: The run took more than :data:`TRAIN_TIMEOUT` s; the
            ranks are killed.
    """
    context = mp.start_processes(
        _train_rank,
        args=(world_size, free_port(), [str(config), '--work-dir',
                                         str(work_dir)], str(module_dir)),
        nprocs=world_size,
        join=False,
        start_method=start_method())
    deadline = time.monotonic() + TRAIN_TIMEOUT
    while not context.join(timeout=1):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            raise TimeoutError(f'training {config} on {world_size} gloo '
                               f'ranks took more than {TRAIN_TIMEOUT} s')
    return '\n'.join(path.read_text()
                     for path in sorted(Path(work_dir).glob('*/*.log')))
