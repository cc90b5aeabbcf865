"""PatchNeck: one embedding per generated patch, PAUL's head or any neck."""
import pytest
import torch

from mmreid_unsup.registry import MODELS


def _neck(**kwargs):
    cfg = dict(
        type='PatchNeck',
        in_channels=8,
        num_patches=3,
        out_channels=5,
        generator=dict(
            type='PatchGenerator',
            hidden_channels=16,
            fc_channels=8,
            conv_padding=1))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def test_paul_head_pools_and_embeds_each_stripe():
    torch.manual_seed(0)
    neck = _neck().eval()
    x = torch.randn(4, 8, 6, 2)
    out = neck(x)
    assert out.shape == (4, 3, 5)
    # At initialisation patch s is stripe s: check the middle one against
    # its own Linear + BN on the stripe's pooled rows (nearest sampling).
    neck.generator.interpolation = 'nearest'
    out = neck(x)
    pooled = x[:, :, 2:4].mean((2, 3))
    _, _, linear, bn = neck.patch_embeds[1]
    torch.testing.assert_close(out[:, 1], bn(linear(pooled)))


def test_any_neck_can_embed_the_patches():
    neck = _neck(
        patch_embed=dict(type='OSNetFCNeck', in_channels=8, out_channels=5))
    assert len(neck.patch_embeds) == 3
    assert neck.patch_embeds[0] is not neck.patch_embeds[1]
    neck.eval()
    assert neck(torch.randn(2, 8, 6, 2)).shape == (2, 3, 5)


def test_mismatched_settings_are_reported():
    with pytest.raises(ValueError, match='num_patches=4'):
        _neck(generator=dict(type='PatchGenerator', num_patches=4))
    neck = _neck(
        patch_embed=dict(type='OSNetFCNeck', in_channels=8, out_channels=7))
    with pytest.raises(ValueError, match='out_channels is 5'):
        neck.eval()(torch.randn(2, 8, 6, 2))


def test_pretrained_init_of_each_patch_embedding_runs(tmp_path):
    # init_weights must reach every patch embedding's own init_cfg: a plain
    # torch.nn.ModuleList between the neck and them would skip it.
    source = MODELS.build(
        dict(type='OSNetFCNeck', in_channels=8, out_channels=5))
    with torch.no_grad():
        for value in source.state_dict().values():
            if value.is_floating_point():
                value.uniform_(0.5, 1.5)
    checkpoint = tmp_path / 'fc.pth'
    torch.save(source.state_dict(), checkpoint)
    neck = _neck(
        patch_embed=dict(
            type='OSNetFCNeck',
            in_channels=8,
            out_channels=5,
            init_cfg=dict(type='Pretrained', checkpoint=str(checkpoint))))
    neck.init_weights()
    for embed in neck.patch_embeds:
        for key, value in source.state_dict().items():
            torch.testing.assert_close(
                embed.state_dict()[key], value, msg=key)
