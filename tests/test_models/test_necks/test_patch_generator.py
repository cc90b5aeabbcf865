"""PatchGenerator: exact horizontal stripes at initialisation, learnable
affine transforms afterwards."""
import pytest
import torch

from mmreid_unsup.models.necks import PatchGenerator, stripe_thetas

# PAUL's initial bias (src/models/patchnet.py), six 2x3 matrices.
PAUL_STRIPES = [
    1, 0, 0, 0, 1 / 6, -5 / 6,
    1, 0, 0, 0, 1 / 6, -3 / 6,
    1, 0, 0, 0, 1 / 6, -1 / 6,
    1, 0, 0, 0, 1 / 6, 1 / 6,
    1, 0, 0, 0, 1 / 6, 3 / 6,
    1, 0, 0, 0, 1 / 6, 5 / 6,
]


def _generator(**kwargs):
    cfg = dict(
        in_channels=8,
        num_patches=6,
        hidden_channels=16,
        fc_channels=8,
        conv_padding=1)
    cfg.update(kwargs)
    return PatchGenerator(**cfg)


def test_stripe_thetas_are_paul_s():
    torch.testing.assert_close(
        stripe_thetas(6).flatten(), torch.tensor(PAUL_STRIPES))
    # Two stripes: the top and bottom halves.
    torch.testing.assert_close(
        stripe_thetas(2),
        torch.tensor([[[1.0, 0, 0], [0, 0.5, -0.5]],
                      [[1.0, 0, 0], [0, 0.5, 0.5]]]))


def test_initial_thetas_are_the_stripes_for_any_input():
    torch.manual_seed(0)
    generator = _generator()
    thetas = generator.thetas(torch.randn(5, 8, 12, 4))
    assert thetas.shape == (5, 6, 2, 3)
    torch.testing.assert_close(thetas,
                               stripe_thetas(6).expand(5, -1, -1, -1))


def test_initial_patches_are_exact_stripes_with_nearest_sampling():
    torch.manual_seed(0)
    generator = _generator(interpolation='nearest').eval()
    x = torch.randn(2, 8, 12, 4)  # 12 rows: 6 stripes of 2 rows
    patches = generator(x)
    assert patches.shape == (2, 6, 8, 12, 4)
    for s in range(6):
        stripe = x[:, :, 2 * s:2 * s + 2]
        # Each of the stripe's rows fills 6 consecutive rows of the patch.
        expected = stripe.repeat_interleave(6, dim=2)
        assert torch.equal(patches[:, s], expected), s


def test_bilinear_patches_follow_their_stripe():
    torch.manual_seed(0)
    generator = _generator(padding_mode='border').eval()
    # A map whose value is its row index: patch s averages rows 2s..2s+1.
    rows = torch.arange(12.0).view(1, 1, 12, 1).expand(1, 8, 12, 4)
    means = generator(rows.contiguous()).mean((2, 3, 4))[0]
    torch.testing.assert_close(
        means, torch.tensor([2 * s + 0.5 for s in range(6)]), atol=0.1,
        rtol=0)


def test_the_transforms_learn():
    torch.manual_seed(0)
    generator = _generator()
    generator(torch.randn(3, 8, 12, 4)).square().mean().backward()
    last = generator.fc_loc[-1]
    assert last.weight.grad.abs().sum() > 0
    assert last.bias.grad.abs().sum() > 0


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match='num_patches'):
        _generator(num_patches=0)
    with pytest.raises(ValueError, match='interpolation'):
        _generator(interpolation='bicubic')
    with pytest.raises(ValueError, match=r'\(B, 8, H, W\)'):
        _generator().thetas(torch.randn(2, 4, 12, 4))
