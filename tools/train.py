"""Train a re-ID model from a config: ``python tools/train.py CONFIG``.

Distributed faults: every rank's process group has a finite timeout,
``env_cfg.dist_cfg.timeout`` in seconds (:data:`DEFAULT_DIST_TIMEOUT` when
the config sets none; with CUDA, MMEngine passes the same setting to
``init_process_group``). A rank that dies is noticed by ``torchrun``
(``tools/dist_train.sh``), which stops the other ranks and prints the
failing rank and its traceback (``main`` is wrapped in torch's ``@record``);
a rank that stalls without dying makes the others fail at their next
collective after the timeout instead of hanging forever. Keep the timeout
above the longest phase one rank spends alone (the pseudo labeler runs on
rank 0 while the others wait at the broadcast).
"""
import argparse
import os
import os.path as osp
from datetime import timedelta
from typing import Optional

import torch
import torch.distributed as dist
from mmengine.config import Config, DictAction
from torch.distributed.elastic.multiprocessing.errors import record

from mmreid_unsup.engine import build_runner
from mmreid_unsup.utils import freeze_gc_at_exit, register_all_modules


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a re-ID model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or from the latest one in '
        'the work dir when no path is given')
    parser.add_argument(
        '--amp', action='store_true', help='mixed precision training')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, e.g. '
        'train_cfg.max_epochs=2 model.backbone.depth=18')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


#: Process-group timeout (s) when ``env_cfg.dist_cfg.timeout`` is not set:
#: torch's own default for gloo, stated so that it is a documented bound.
DEFAULT_DIST_TIMEOUT = 1800


def dist_timeout(cfg: Optional[Config] = None) -> float:
    """The process-group timeout in seconds: the config's or the default.

    Args:
        cfg (Config, optional): The config; ``env_cfg.dist_cfg.timeout``
            (seconds, as MMEngine reads it) is used when set.

    Returns:
        float: The timeout in seconds.
    """
    dist_cfg = ((cfg or {}).get('env_cfg') or {}).get('dist_cfg') or {}
    timeout = dist_cfg.get('timeout')
    if timeout is None:
        return float(DEFAULT_DIST_TIMEOUT)
    if float(timeout) <= 0:
        raise ValueError('env_cfg.dist_cfg.timeout must be a positive number '
                         f'of seconds, got {timeout!r}')
    return float(timeout)


def init_cpu_process_group(launcher: str,
                           cfg: Optional[Config] = None) -> None:
    """Start gloo for a distributed run on a machine without CUDA.

    MMEngine's launcher always calls ``torch.cuda.set_device``; on CPU we
    start the process group ourselves (MMEngine then skips its own init),
    with the timeout of :func:`dist_timeout`. With CUDA, MMEngine
    initialises the backend from ``env_cfg.dist_cfg`` (timeout included).

    Args:
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.
        cfg (Config, optional): The config, for ``env_cfg.dist_cfg.timeout``.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return
    if dist.is_available() and not dist.is_initialized():
        dist.init_process_group(
            backend='gloo', timeout=timedelta(seconds=dist_timeout(cfg)))


def build_cfg(args: argparse.Namespace) -> Config:
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def close_process_group() -> None:
    """Wait for every rank, then destroy the process group (if any).

    A rank that exits with its gloo group alive leaves the group's threads
    to the interpreter's shutdown, which aborted one 2-rank run in about
    ten on a 2-core VM (``terminate called without an active exception``,
    exit code -6, after training had finished). The barrier keeps a rank
    that finished first from tearing its side down while another still
    talks to it.
    """
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


@record
def main() -> None:
    args = parse_args()
    # The runner sets the config's default scope itself.
    register_all_modules(init_default_scope=False)
    cfg = build_cfg(args)
    init_cpu_process_group(args.launcher, cfg)
    runner = build_runner(cfg)
    runner.train()
    close_process_group()


if __name__ == '__main__':
    freeze_gc_at_exit()
    main()
