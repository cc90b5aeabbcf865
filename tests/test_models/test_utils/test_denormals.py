"""flush_denormals_ / denormals_flushed: only denormal entries change, and
the context manager gives the exact weights back."""
import torch
from torch import nn

from mmreid_unsup.models.utils.denormals import (denormals_flushed,
                                                 flush_denormals_)

TINY = torch.finfo(torch.float32).tiny


def model_with_denormals() -> nn.Module:
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 2, 1))
    with torch.no_grad():
        # A dead output channel: weights shrunk below float32's normal
        # range, as long weight decay leaves them in pretrained models.
        model[0].weight[1] = TINY / 4
        model[0].weight[2, 0] = -TINY / 8
        model[1].running_var[3] = TINY / 2
    # An integer buffer and a weight the module shares are not floats to
    # flush twice or at all.
    model.register_buffer('counter', torch.tensor([3]))
    return model


def denormal_count(model: nn.Module) -> int:
    return sum(
        int(((t.abs() < TINY) & (t != 0)).sum())
        for t in list(model.parameters()) + list(model.buffers())
        if t.is_floating_point())


def test_flush_zeroes_denormals_only():
    model = model_with_denormals()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert denormal_count(model) == 3 + 1 + 1

    assert flush_denormals_(model) == 5
    assert denormal_count(model) == 0
    after = model.state_dict()
    for key, value in before.items():
        changed = value != after[key]
        assert bool((value[changed].abs() < TINY).all()), key
        assert bool((after[key][changed] == 0).all()), key
    assert torch.equal(after['counter'], torch.tensor([3]))
    assert flush_denormals_(model) == 0


def test_flush_keeps_the_outputs_to_rounding():
    model = model_with_denormals().eval()
    x = torch.randn(2, 3, 5, 5)
    with torch.no_grad():
        before = model(x)
        flush_denormals_(model)
        torch.testing.assert_close(model(x), before, rtol=0, atol=1e-6)


def test_context_puts_the_exact_weights_back():
    model = model_with_denormals()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with denormals_flushed(model) as count:
        assert count == 5
        assert denormal_count(model) == 0
    after = model.state_dict()
    for key, value in before.items():
        # Bit for bit, denormals included.
        assert torch.equal(value.reshape(-1).view(torch.uint8),
                           after[key].reshape(-1).view(torch.uint8)), key


def test_context_restores_after_an_error():
    model = model_with_denormals()
    try:
        with denormals_flushed(model):
            raise KeyError('stop')
    except KeyError:
        pass
    assert denormal_count(model) == 5


def test_parameters_keep_their_gradients_and_identity():
    model = model_with_denormals()
    weight = model[0].weight
    with denormals_flushed(model):
        assert model[0].weight is weight
    assert model[0].weight is weight and weight.requires_grad
    flush_denormals_(model)
    assert model[0].weight is weight and weight.grad is None
