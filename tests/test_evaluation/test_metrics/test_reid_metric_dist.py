"""ReIDMetric under DDP (gloo, 2 CPU processes): each rank processes its
share, MMEngine gathers the samples, every rank gets rank 0's scores, equal
to a single process's."""
import pytest
import torch
from gloo_ranks import run_on_gloo_ranks

pytestmark = pytest.mark.dist

NUM_SAMPLES = 45  # odd: the ranks hold 23 and 22 samples


def make_samples():
    from mmreid_unsup.structures import ReIDDataSample
    gen = torch.Generator().manual_seed(0)
    samples = []
    for idx in range(NUM_SAMPLES):
        sample = ReIDDataSample(
            metainfo=dict(pid=idx % 6, camid=idx // 6 % 3, is_query=idx < 12))
        sample.feat = torch.randn(8, generator=gen)
        samples.append(sample)
    return samples


def _worker(rank: int) -> dict:
    from mmengine.evaluator import Evaluator

    from mmreid_unsup.evaluation import ReIDMetric
    evaluator = Evaluator(ReIDMetric(topk=(1, 3)))
    # DefaultSampler's interleaved shards, batches of 4.
    mine = make_samples()[rank::2]
    for start in range(0, len(mine), 4):
        evaluator.process(data_samples=mine[start:start + 4])
    return evaluator.evaluate(NUM_SAMPLES)


def test_results_are_gathered_across_ranks():
    from mmengine.evaluator import Evaluator

    from mmreid_unsup.evaluation import ReIDMetric
    scores = run_on_gloo_ranks(_worker)

    single = Evaluator(ReIDMetric(topk=(1, 3)))
    single.process(data_samples=make_samples())
    expected = single.evaluate(NUM_SAMPLES)
    assert set(expected) == {
        'reid/mAP', 'reid/rank1', 'reid/rank3', 'reid/mINP'
    }
    assert scores[0] == expected and scores[1] == expected
