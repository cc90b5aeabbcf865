"""``tools/train.py`` and ``tools/test.py`` close the process group they
run in: a rank that exits with its gloo group alive can abort at
interpreter shutdown (``terminate called without an active exception``)."""
from types import SimpleNamespace

import pytest
import torch.distributed as dist

from tiny_cluster_contrast import REPO_ROOT, free_port, load_script

TOOLS = REPO_ROOT / 'tools'


@pytest.fixture
def train_module():
    return load_script(TOOLS / 'train.py', 'train_tool')


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


def test_test_tool_closes_the_group_after_testing(one_rank_group,
                                                  monkeypatch):
    tool = load_script(TOOLS / 'test.py', 'test_tool', import_root=TOOLS)
    tested = []

    def test():
        tested.append(dist.is_initialized())
        return {}

    # Rank 1: no results table to print or file to write.
    runner = SimpleNamespace(rank=1, test=test)
    monkeypatch.setattr(
        tool, 'parse_args', lambda argv: SimpleNamespace(
            launcher='pytorch', checkpoint=None, show_dir=None))
    monkeypatch.setattr(tool, 'check_checkpoint_arg', lambda path: None)
    monkeypatch.setattr(tool, 'build_cfg', lambda args: None)
    monkeypatch.setattr(tool, 'init_cpu_process_group', one_rank_group)
    monkeypatch.setattr(tool, 'build_runner', lambda cfg: runner)
    monkeypatch.setattr(tool, 'ensure_checkpoint_fit_hook', lambda r: None)
    assert tool.main([]) == {}
    assert tested == [True]
    assert not dist.is_initialized()
