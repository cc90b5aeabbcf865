"""PatchAttentionNeck: per-patch attention and projection, patch by patch."""
import pytest
import torch
import torch.nn.functional as F

from mmreid_unsup.models.necks import PatchAttentionNeck


def test_shapes_and_patches_are_independent():
    torch.manual_seed(0)
    neck = PatchAttentionNeck(16, num_patches=4, patch_channels=8).eval()
    x = torch.randn(2, 16, 8, 4)
    attended, patches = neck(x)
    assert attended.shape == (2, 4, 16) and patches.shape == (2, 4, 8)
    x2 = x.clone()
    x2[:, :, :2] += 1.0  # the rows of patch 0 only
    attended2, patches2 = neck(x2)
    assert not torch.allclose(patches[:, 0], patches2[:, 0])
    torch.testing.assert_close(patches[:, 1:], patches2[:, 1:])
    torch.testing.assert_close(attended[:, 1:], attended2[:, 1:])


def test_attention_scales_the_pooled_patch():
    torch.manual_seed(0)
    neck = PatchAttentionNeck(8, num_patches=2, patch_channels=4).eval()
    plain = PatchAttentionNeck(8, num_patches=2, attention=False).eval()
    x = torch.rand(3, 8, 4, 2)
    pooled = F.adaptive_avg_pool2d(x, (2, 1)).squeeze(3).transpose(1, 2)
    attended, _ = neck(x)
    torch.testing.assert_close(plain(x)[0], pooled)
    scale = attended / pooled
    assert ((scale > 0) & (scale < 1)).all()  # a sigmoid per channel


def test_bad_input():
    with pytest.raises(ValueError, match='num_patches'):
        PatchAttentionNeck(8, num_patches=0)
    with pytest.raises(ValueError, match='map'):
        PatchAttentionNeck(8)(torch.randn(2, 4, 6, 2))
