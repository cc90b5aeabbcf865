"""CrossImageAlignment: compares unaligned maps when new, and its learned
deformable offsets recover a known shift between two maps better than no
alignment."""
import pytest
import torch
import torch.nn.functional as F

from mmreid_unsup.models.layers import CrossImageAlignment
from mmreid_unsup.registry import MODELS


def _smooth_maps(num: int, gen: torch.Generator) -> torch.Tensor:
    """Random maps, smooth along the height (an alignment needs a slope)."""
    x = torch.randn(num, 8, 16, 4, generator=gen)
    return F.avg_pool2d(x, (5, 1), stride=1)[:, :, :12]


def test_new_module_compares_the_maps_as_they_are():
    module = MODELS.build(
        dict(type='CrossImageAlignment', in_channels=6, channels=4,
             num_patches=3)).eval()
    a, b = torch.randn(2, 6, 9, 4), torch.randn(2, 6, 9, 4)
    reduced_a, reduced_b = module.reduce(a), module.reduce(b)
    offsets = module.offsets(reduced_a, reduced_b)
    assert offsets.shape == (2, 18, 9, 4) and not offsets.any()
    torch.testing.assert_close(module.align(reduced_b, offsets), reduced_b)
    torch.testing.assert_close(
        module(a, b), module.patch_similarity(reduced_a, reduced_b))
    torch.testing.assert_close(module(a, a), torch.ones(2))
    expected = F.cosine_similarity(
        reduced_a.view(2, 4, 3, 3, 4).mean((3, 4)),
        reduced_b.view(2, 4, 3, 3, 4).mean((3, 4)),
        dim=1).mean(1)
    torch.testing.assert_close(module(a, b), expected)


def test_learned_offsets_recover_a_known_shift():
    gen = torch.Generator().manual_seed(0)
    module = CrossImageAlignment(8, channels=8, num_patches=4).eval()
    module.reduce.requires_grad_(False)
    optimizer = torch.optim.Adam(
        [p for p in module.parameters() if p.requires_grad], lr=0.05)
    test_a = _smooth_maps(8, gen)
    test_b = torch.roll(test_a, shifts=2, dims=2)  # two rows down
    with torch.no_grad():
        unaligned = module(test_a, test_b).mean().item()
    for _ in range(40):
        a = _smooth_maps(8, gen)
        loss = (1 - module(a, torch.roll(a, shifts=2, dims=2))).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        aligned = module(test_a, test_b).mean().item()
    assert aligned > unaligned + 0.1, (unaligned, aligned)


def test_fixed_kernel_is_not_trained_unless_asked():
    fixed = CrossImageAlignment(4, channels=4)
    assert 'kernel' not in dict(fixed.named_parameters())
    assert 'kernel' not in fixed.state_dict()
    learnable = CrossImageAlignment(4, channels=4, learnable_kernel=True)
    assert 'kernel' in dict(learnable.named_parameters())


def test_bad_input():
    with pytest.raises(ValueError, match='odd'):
        CrossImageAlignment(4, kernel_size=2)
    module = CrossImageAlignment(4, channels=4)
    with pytest.raises(ValueError, match='one shape'):
        module(torch.randn(1, 4, 6, 2), torch.randn(1, 4, 8, 2))
