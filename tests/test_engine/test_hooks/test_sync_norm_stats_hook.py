"""SyncNormStatsHook: every rank ends an iteration with the same BatchNorm
running statistics, their mean; nothing else is touched."""
import pytest
import torch
from mmengine.config import Config
from torch import nn

from gloo_ranks import run_on_gloo_ranks
from mmreid_unsup.engine.hooks import SyncNormStatsHook
from mmreid_unsup.engine.hooks.sync_norm_stats_hook import norm_running_stats
from tiny_cluster_contrast import REPO_ROOT


def _model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4),
        nn.InstanceNorm2d(4, track_running_stats=True),
        nn.BatchNorm2d(4, track_running_stats=False), nn.Flatten(),
        nn.Linear(4, 3), nn.BatchNorm1d(3, affine=False))


def _rank_worker(rank: int) -> dict:
    torch.manual_seed(0)  # the same weights on both ranks
    model = _model()
    for value, layer in enumerate(model.modules()):
        if getattr(layer, 'running_mean', None) is not None:
            layer.running_mean.fill_(10 * rank + value)
            layer.running_var.fill_(1 + rank)
            layer.num_batches_tracked.fill_(rank)
    weight = model[0].weight.clone()
    SyncNormStatsHook.sync(model)
    assert torch.equal(model[0].weight, weight)
    # Plain arrays: tensors would travel as shared memory of a dead process.
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


@pytest.mark.dist
def test_ranks_hold_the_mean_statistics_after_a_sync():
    states = run_on_gloo_ranks(_rank_worker)
    zero, one = ({k: torch.from_numpy(v) for k, v in states[r].items()}
                 for r in (0, 1))
    assert zero.keys() == one.keys()
    for layer in ('1', '2', '6'):
        for name in ('running_mean', 'running_var'):
            key = f'{layer}.{name}'
            assert torch.equal(zero[key], one[key]), key
        # Means of (value, 10 + value) and of (1, 2).
        assert torch.allclose(zero[f'{layer}.running_var'],
                              torch.full_like(zero[f'{layer}.running_var'],
                                              1.5))
        assert (zero[f'{layer}.running_mean'] % 1 == 0).all()
        assert (zero[f'{layer}.running_mean'] >= 5).all()
        # The batch counters are the ranks' own.
        assert int(zero[f'{layer}.num_batches_tracked']) == 0
        assert int(one[f'{layer}.num_batches_tracked']) == 1


def test_one_process_is_left_alone():
    model = _model()
    model[1].running_mean.fill_(3.0)
    SyncNormStatsHook.sync(model)
    assert torch.equal(model[1].running_mean, torch.full((4, ), 3.0))
    # Two BatchNorms and the InstanceNorm track statistics; one does not.
    assert len(norm_running_stats(model)) == 6


def test_every_config_gets_the_hook():
    cfg = Config.fromfile(
        str(REPO_ROOT / 'configs' / '_base_' / 'default_runtime.py'))
    assert cfg.default_hooks.sync_norm_stats.type == 'SyncNormStatsHook'
    assert SyncNormStatsHook.priority == 'HIGH'  # before checkpoint saving
