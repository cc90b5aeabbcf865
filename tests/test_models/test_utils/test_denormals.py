"""flush_denormals_ / denormals_flushed: only denormal entries change, and
the context manager gives the exact weights back."""
import torch
from torch import nn

from mmreid_unsup.models.utils.denormals import (denormals_flushed,
                                                 flush_denormals_)

TINY = torch.finfo(torch.float32).tiny


class Net(nn.Module):
    """A small convolutional net whose first layer is also reachable under
    a second name (tied weights), with an integer buffer."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4), nn.ReLU(),
            nn.Conv2d(4, 2, 1))
        self.tied = self.body[0]
        self.register_buffer('counter', torch.tensor([3]))

    def __getitem__(self, idx: int) -> nn.Module:
        return self.body[idx]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def model_with_denormals() -> nn.Module:
    torch.manual_seed(0)
    model = Net()
    with torch.no_grad():
        # A dead output channel: weights shrunk below float32's normal
        # range, as long weight decay leaves them in pretrained models.
        model[0].weight[1] = TINY / 4
        model[0].weight[2, 0] = -TINY / 8
        model[1].running_var[3] = TINY / 2
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


def test_parameters_stay_the_optimizer_s_and_keep_their_gradients():
    model = model_with_denormals()
    weight = model[0].weight
    model(torch.randn(2, 3, 4, 4)).sum().backward()
    grad = weight.grad.clone()
    with denormals_flushed(model):
        assert model[0].weight is weight and model.tied.weight is weight
    flush_denormals_(model)
    assert model[0].weight is weight and weight.requires_grad
    assert torch.equal(weight.grad, grad)
    # Still the leaf the optimizer steps.
    before = weight.detach().clone()
    torch.optim.SGD(model.parameters(), lr=0.1).step()
    torch.testing.assert_close(weight.detach(), before - 0.1 * grad)


def test_only_cpu_float32_float64_bfloat16_are_flushed():
    """float16 is computed on in float32, where its subnormals are
    normal numbers: zeroing them would only lose precision."""
    half = nn.Linear(2, 2).half()
    with torch.no_grad():
        half.weight[0, 0] = torch.finfo(torch.float16).tiny / 4
    assert flush_denormals_(half) == 0
    assert float(half.weight[0, 0]) != 0.0
    for dtype in (torch.float64, torch.bfloat16):
        layer = nn.Linear(2, 2).to(dtype)
        with torch.no_grad():
            layer.weight[0, 0] = torch.finfo(dtype).tiny / 4
        assert flush_denormals_(layer) == 1, dtype
        assert float(layer.weight[0, 0]) == 0.0
