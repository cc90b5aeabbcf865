"""ReIDMetric on a hand-made case, directly and through MMEngine."""
import math

import pytest
import torch
from mmengine.evaluator import Evaluator

from mmreid_unsup.evaluation import ReIDMetric
from mmreid_unsup.registry import METRICS
from mmreid_unsup.structures.reid_data_sample import ReIDDataSample

# Every image sits on the unit circle at an angle (degrees), so 2 - 2cos
# grows with the angular gap. (name, angle, pid, camid, is_query)
SAMPLES = [
    ('q0', 0, 1, 0, True),
    ('q1', 100, 2, 1, True),
    ('q2', 200, 3, 0, True),  # its only pid-3 image shares its camera
    ('g0', 5, 1, 0, False),  # junk for q0: same pid, same camera
    ('g1', 10, 9, 1, False),  # distractor identity
    ('g2', 20, 1, 1, False),
    ('g3', 30, 2, 0, False),
    ('g4', 60, 1, 2, False),
    ('g5', 95, 2, 1, False),  # junk for q1
    ('g6', 200, 3, 0, False),  # junk for q2
    ('g7', 130, 2, 2, False),
]
# q0 (angle 0): order g0 g1 g2 g3 g4 g5 g7 g6; g0 is junk, so kept ranks are
#   g1=1 g2=2* g3=3 g4=4* ...: matches at 2 and 4.
#   AP = (1/2 + 2/4) / 2 = 1/2; first match 2; INP = 2/4.
# q1 (angle 100): order g5 g7 g4 g3 g2 g1 g0 g6; g5 is junk, so
#   g7=1* g4=2 g3=3* ...: matches at 1 and 3.
#   AP = (1/1 + 2/3) / 2 = 5/6; first match 1; INP = 2/3.
# q2: no true match once g6 is removed: skipped.
EXPECTED = {
    'mAP': 100 * (1 / 2 + 5 / 6) / 2,  # 66.67
    'rank1': 50.0,  # q1 only
    'rank5': 100.0,
    'rank10': 100.0,
    'mINP': 100 * (2 / 4 + 2 / 3) / 2,  # 58.33
}


def make_samples():
    samples = []
    for _, angle, pid, camid, is_query in SAMPLES:
        sample = ReIDDataSample(
            metainfo=dict(pid=pid, camid=camid, is_query=is_query))
        rad = math.radians(angle)
        # Not unit length: the metric normalises.
        sample.feat = 3 * torch.tensor([math.cos(rad), math.sin(rad)])
        samples.append(sample)
    return samples


def assert_scores(scores, prefix=''):
    assert set(scores) == {prefix + key for key in EXPECTED}
    for key, value in EXPECTED.items():
        assert scores[prefix + key] == pytest.approx(value, abs=1e-4), key


def test_hand_made_case_direct():
    metric = ReIDMetric(chunk_size=1)
    samples = make_samples()
    metric.process(None, samples[:4])  # ReIDDataSample objects
    metric.process(None, [s.to_dict() for s in samples[4:]])  # dicts
    assert all(r['feat'].device.type == 'cpu' for r in metric.results)
    assert_scores(metric.compute_metrics(metric.results))


def test_through_mmengine_evaluator():
    evaluator = Evaluator(ReIDMetric(chunk_size=2))
    samples = make_samples()
    for start in range(0, len(samples), 3):
        evaluator.process(data_samples=samples[start:start + 3])
    assert_scores(evaluator.evaluate(len(samples)), prefix='reid/')


def test_chunk_size_does_not_change_the_result():
    gen = torch.Generator().manual_seed(0)
    samples = []
    for idx in range(60):
        sample = ReIDDataSample(
            metainfo=dict(pid=idx % 7, camid=idx % 3, is_query=idx < 20))
        sample.feat = torch.randn(8, generator=gen)
        samples.append(sample)
    scores = []
    for chunk_size in (3, 256):
        metric = ReIDMetric(topk=(1, 2), chunk_size=chunk_size)
        metric.process(None, samples)
        scores.append(metric.compute_metrics(metric.results))
    assert set(scores[0]) == {'mAP', 'rank1', 'rank2', 'mINP'}
    assert scores[0] == pytest.approx(scores[1])


def test_built_from_registry_and_prefix():
    metric = METRICS.build(dict(type='ReIDMetric', topk=(1, ), prefix='val'))
    assert isinstance(metric, ReIDMetric)
    assert metric.prefix == 'val' and metric.topk == (1, )
    assert ReIDMetric().prefix == 'reid'


def test_missing_fields_and_sets():
    metric = ReIDMetric()
    with pytest.raises(KeyError, match='is_query'):
        metric.process(None, [dict(feat=torch.ones(2), pid=1, camid=0)])
    sample = ReIDDataSample(metainfo=dict(pid=1, camid=0, is_query=True))
    sample.feat = torch.ones(2)
    metric.process(None, [sample])
    with pytest.raises(ValueError, match='both query and gallery'):
        metric.compute_metrics(metric.results)


def test_default_chunk_size_depends_on_rerank():
    assert ReIDMetric().chunk_size == 1024
    assert ReIDMetric(rerank=True).chunk_size == 256
    assert ReIDMetric(chunk_size=7, rerank=True).chunk_size == 7
    with pytest.raises(ValueError, match='chunk_size must be >= 1'):
        ReIDMetric(chunk_size=0)
