"""``tools/train.py`` and ``tools/test.py`` close the process group they
run in: a rank that exits with its gloo group alive can abort at
interpreter shutdown (``terminate called without an active exception``)."""
import sys
from types import SimpleNamespace

import pytest
import torch.distributed as dist

from tiny_cluster_contrast import REPO_ROOT, free_port


@pytest.fixture
def train_module():
    sys.path.insert(0, str(REPO_ROOT / 'tools'))
    try:
        import train
    finally:
        sys.path.remove(str(REPO_ROOT / 'tools'))
    return train


@pytest.fixture
def one_rank_group():
    """A gloo group of one rank in this process, destroyed if a test left it
    alive."""

    def start(*args, **kwargs):
        dist.init_process_group(
            'gloo',
            init_method=f'tcp://127.0.0.1:{free_port()}',
            rank=0,
            world_size=1)

    yield start
    if dist.is_initialized():
        dist.destroy_process_group()


def test_close_process_group_destroys_the_group(train_module, one_rank_group):
    one_rank_group()
    assert dist.is_initialized()
    train_module.close_process_group()
    assert not dist.is_initialized()
    # Without a group it does nothing.
    train_module.close_process_group()
    assert not dist.is_initialized()


def test_main_closes_the_group_after_training(train_module, one_rank_group,
                                              monkeypatch):
    trained = []
    runner = SimpleNamespace(
        train=lambda: trained.append(dist.is_initialized()))
    monkeypatch.setattr(
        train_module, 'parse_args',
        lambda: SimpleNamespace(launcher='pytorch'))
    monkeypatch.setattr(train_module, 'build_cfg', lambda args: None)
    monkeypatch.setattr(train_module, 'init_cpu_process_group',
                        one_rank_group)
    monkeypatch.setattr(train_module, 'build_runner', lambda cfg: runner)
    train_module.main()
    # Trained inside the group, which is gone once main returns.
    assert trained == [True]
    assert not dist.is_initialized()
