"""GlobalStripeNeck: shapes, initialisation and SCL's stripe pooling."""
import pytest
import torch
import torch.nn.functional as F

from mmreid_unsup.models.necks import GlobalStripeNeck


def test_shapes_and_init():
    neck = GlobalStripeNeck(
        in_channels=16, global_channels=12, num_stripes=4, stripe_channels=6)
    g, local = neck(torch.randn(3, 16, 8, 4))
    assert g.shape == (3, 12) and local.shape == (3, 4, 6)
    assert torch.equal(neck.global_fc.bias, torch.zeros(12))
    assert torch.equal(neck.global_bn.weight, torch.ones(12))
    assert len(neck.stripe_embeds) == 4


def test_stripes_are_the_reference_row_blocks():
    torch.manual_seed(0)
    neck = GlobalStripeNeck(
        in_channels=5, global_channels=3, num_stripes=4,
        stripe_channels=2).eval()
    x = torch.randn(2, 5, 8, 3)
    g, local = neck(x)
    # end2end.py: stripe i is rows [2i, 2i + 2) average pooled, then its own
    # Linear + BN; the global branch pools the whole map.
    for i, embed in enumerate(neck.stripe_embeds):
        pooled = F.avg_pool2d(x[:, :, 2 * i:2 * i + 2], (2, 3)).flatten(1)
        assert torch.allclose(local[:, i], embed(pooled), atol=1e-6)
    pooled = F.avg_pool2d(x, x.shape[2:]).flatten(1)
    assert torch.allclose(g, neck.global_bn(neck.global_fc(pooled)),
                          atol=1e-6)


def test_more_stripes_than_rows_still_work():
    neck = GlobalStripeNeck(
        in_channels=4, global_channels=4, num_stripes=4, stripe_channels=2)
    _, local = neck(torch.randn(2, 4, 2, 1))
    assert local.shape == (2, 4, 2)


def _osnet_fc(**kwargs):
    return dict(type='OSNetFCNeck', in_channels=16, out_channels=12, **kwargs)


def test_any_neck_can_be_the_global_embedding():
    neck = GlobalStripeNeck(
        in_channels=16,
        global_channels=12,
        num_stripes=4,
        stripe_channels=6,
        global_embed=_osnet_fc()).eval()
    assert not hasattr(neck, 'global_fc')
    x = torch.randn(3, 16, 8, 4)
    g, local = neck(x)
    assert local.shape == (3, 4, 6)
    torch.testing.assert_close(g, neck.global_embed(x))


def test_the_global_embedding_s_pretrained_init_runs(tmp_path):
    source = GlobalStripeNeck(
        in_channels=16, global_channels=12, global_embed=_osnet_fc())
    with torch.no_grad():
        for value in source.global_embed.state_dict().values():
            if value.is_floating_point():
                value.uniform_(0.5, 1.5)
    checkpoint = tmp_path / 'fc.pth'
    torch.save(source.global_embed.state_dict(), checkpoint)
    neck = GlobalStripeNeck(
        in_channels=16,
        global_channels=12,
        global_embed=_osnet_fc(
            init_cfg=dict(type='Pretrained', checkpoint=str(checkpoint))))
    neck.init_weights()
    for key, value in source.global_embed.state_dict().items():
        torch.testing.assert_close(
            neck.global_embed.state_dict()[key], value, msg=key)


def test_a_global_embedding_of_another_size_is_reported():
    with pytest.raises(ValueError, match='global_channels is 10'):
        GlobalStripeNeck(
            in_channels=16, global_channels=10, global_embed=_osnet_fc())
