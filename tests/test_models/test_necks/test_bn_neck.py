import pytest
import torch
import torch.nn.functional as F

from mmreid_unsup.models import BNNeck, GeneralizedMeanPooling
from mmreid_unsup.registry import MODELS


def test_bn_starts_at_identity_with_frozen_bias():
    neck = MODELS.build(dict(type='BNNeck', in_channels=8))
    assert isinstance(neck.pool, GeneralizedMeanPooling)
    assert torch.all(neck.bn.weight == 1)
    assert torch.all(neck.bn.bias == 0)
    assert neck.bn.weight.requires_grad
    assert not neck.bn.bias.requires_grad


def test_bias_stays_zero_after_a_training_step():
    neck = BNNeck(in_channels=4)
    params = [p for p in neck.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=1.0)
    neck(torch.rand(4, 4, 2, 2)).pow(2).sum().backward()
    optimizer.step()
    assert neck.bn.bias.grad is None
    assert torch.all(neck.bn.bias == 0)


@pytest.mark.parametrize('pooling, pool_fn', [
    ('avg', lambda x: F.adaptive_avg_pool2d(x, 1)),
    ('max', lambda x: F.adaptive_max_pool2d(x, 1)),
])
def test_pooling_choices(pooling, pool_fn):
    neck = BNNeck(in_channels=3, pooling=pooling).eval()
    x = torch.randn(2, 3, 4, 2)
    # Fresh running stats (mean 0, var 1): BN divides by sqrt(1 + eps).
    expected = pool_fn(x).flatten(1) / (1 + neck.bn.eps)**0.5
    torch.testing.assert_close(neck(x), expected)


def test_output_is_not_normalised_here():
    neck = BNNeck(in_channels=3, pooling='avg').eval()
    out = neck(torch.full((1, 3, 2, 2), 5.0))
    assert out.norm().item() > 2


def test_invalid_pooling():
    with pytest.raises(ValueError, match='pooling'):
        BNNeck(in_channels=3, pooling='sum')
