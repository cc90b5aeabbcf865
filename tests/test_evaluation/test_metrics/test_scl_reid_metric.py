"""SCLReIDMetric: the reference distance and its ranking."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmreid_unsup.evaluation.metrics import SCLReIDMetric
from mmreid_unsup.structures import ReIDDataSample


def _sample(g, local, pid, camid, is_query):
    sample = ReIDDataSample(
        metainfo=dict(pid=pid, camid=camid, is_query=is_query))
    sample.global_feat = g
    sample.local_feat = local
    return sample


def test_distance_is_the_reference_formula():
    metric = SCLReIDMetric(lambda_g=0.4, lambda_c=0.1)
    qg, gg = torch.randn(2, 3), torch.randn(4, 3)
    ql, gl = torch.randn(2, 2, 5), torch.randn(4, 2, 5)
    qc, gc = torch.tensor([0, 1]), torch.tensor([0, 1, 1, 2])
    dist = metric.distance(qg, ql, qc, gg, gl, gc)
    for i in range(2):
        for j in range(4):
            expected = 0.4 * float((qg[i] - gg[j]).norm())
            expected += 0.6 / 2 * sum(
                float((ql[i, s] - gl[j, s]).norm()) for s in range(2))
            expected += 0.1 * float(qc[i] == gc[j])
            assert math.isclose(float(dist[i, j]), expected, rel_tol=1e-5)


def test_ranking_uses_the_camera_term():
    # Query pid 0 in camera 0. By distance the gallery is: a distractor
    # (pid 1, cam 2), a distractor in the query's camera (pid 2, cam 0),
    # then the true match (pid 0, cam 1).
    g = F.normalize(torch.tensor([[1.0, 0.0], [0.8, 0.6], [0.9, 0.44],
                                  [0.85, 0.5]]), dim=1)
    local = g.unsqueeze(1)
    pids, cams = [0, 0, 1, 2], [0, 1, 2, 0]
    metric = SCLReIDMetric(lambda_g=0.5, lambda_c=0.0)
    samples = [_sample(g[i], local[i], pids[i], cams[i], i == 0)
               for i in range(4)]
    metric.process(None, samples)
    plain = metric.compute_metrics(metric.results)
    assert plain['mAP'] == pytest.approx(100 / 3)
    # A large camera term moves the same-camera distractor behind the match.
    metric = SCLReIDMetric(lambda_g=0.5, lambda_c=1.0)
    metric.process(None, samples)
    scores = metric.compute_metrics(metric.results)
    assert scores['mAP'] == pytest.approx(50.0)
    assert set(scores) == {'mAP', 'rank1', 'rank5', 'rank10', 'mINP'}


def test_missing_parts_are_a_clear_error():
    sample = ReIDDataSample(metainfo=dict(pid=0, camid=0, is_query=True))
    sample.feat = torch.zeros(3)
    with pytest.raises(KeyError, match='is the model SCL'):
        SCLReIDMetric().process(None, [sample])
