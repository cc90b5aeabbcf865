import pytest
import torch
import torch.nn.functional as F

from mmreid_unsup.models import GeneralizedMeanPooling


def test_gem_matches_hand_computation():
    x = torch.tensor([1.0, 2.0, 3.0, 4.0]).view(1, 1, 2, 2)
    out = GeneralizedMeanPooling(p=3)(x)
    expected = ((1 + 8 + 27 + 64) / 4)**(1 / 3)
    assert out.shape == (1, 1)
    assert out.item() == pytest.approx(expected, rel=1e-6)


def test_gem_clamps_non_positive_inputs():
    x = torch.tensor([-5.0, 0.0, 8.0, 8.0]).view(1, 1, 2, 2)
    out = GeneralizedMeanPooling(p=3, eps=1e-6)(x)
    expected = ((2e-18 + 2 * 512) / 4)**(1 / 3)
    assert out.item() == pytest.approx(expected, rel=1e-6)


def test_gem_p1_is_average_pooling():
    x = torch.rand(2, 3, 4, 2) + 0.1
    out = GeneralizedMeanPooling(p=1)(x)
    expected = F.adaptive_avg_pool2d(x, 1).flatten(1)
    torch.testing.assert_close(out, expected)


def test_gem_p_is_trainable_parameter():
    pool = GeneralizedMeanPooling()
    assert pool.p.item() == 3.0
    pool(torch.rand(2, 3, 4, 2)).sum().backward()
    assert pool.p.grad is not None
    assert not GeneralizedMeanPooling(trainable=False).p.requires_grad


def test_gem_rejects_non_positive_p():
    with pytest.raises(ValueError):
        GeneralizedMeanPooling(p=0)
