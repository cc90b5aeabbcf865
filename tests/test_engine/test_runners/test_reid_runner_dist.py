"""ReIDRunner under DDP (2 gloo ranks): the start model that val() evaluates
before training is rank 0's on every rank, as train() would start from."""
import tempfile
from pathlib import Path

import pytest
import torch

from gloo_ranks import run_on_gloo_ranks
from mmengine.evaluator import BaseMetric
from mmreid_unsup.utils import register_all_modules
from toy_runner import ToyModel, ToySet, build_toy_runner


class NoMetric(BaseMetric):
    """Validation needs a metric; this one measures nothing."""

    default_prefix = 'toy'

    def process(self, data_batch, data_samples) -> None:
        self.results.append(0)

    def compute_metrics(self, results) -> dict:
        return dict(count=float(len(results)))


def _rank_worker(rank: int, root: str) -> list:
    register_all_modules(init_default_scope=True)
    loader = dict(
        dataset=ToySet(4, dim=4),
        sampler=dict(type='DefaultSampler', shuffle=False),
        batch_size=2,
        num_workers=0)
    runner = build_toy_runner(
        Path(root) / f'rank{rank}',
        model=dict(
            type=ToyModel,
            dim=4,
            init_cfg=dict(type='Normal', layer='Linear', std=1.0)),
        train_dataloader=loader,
        val_dataloader=loader,
        val_cfg=dict(),
        val_evaluator=[NoMetric()])
    torch.manual_seed(100 + rank)  # each rank would draw other weights
    runner.val()
    return runner.model.linear.weight.detach().numpy().tolist()


@pytest.mark.dist
def test_val_before_training_evaluates_rank_0_s_initialisation_everywhere():
    with tempfile.TemporaryDirectory() as root:
        weights = run_on_gloo_ranks(_rank_worker, root)
    assert weights[0] == weights[1]
    # Initialised (N(0, 1)), not nn.Linear's uniform(-1/2, 1/2) of dim 4.
    assert max(abs(w) for row in weights[0] for w in row) > 0.5
