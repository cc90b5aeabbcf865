"""Horizontal patches, each with its own channel attention (PPSSL)."""
from typing import Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmreid_unsup.registry import MODELS


@MODELS.register_module()
class PatchAttentionNeck(BaseModule):
    """``P`` horizontal patches of a map, attended and projected per patch.

    PPSSL's intra-similarity branch: "channel attention detects diverse local
    features" within an image. Each patch ``p`` of the map (``P`` equal
    horizontal bands, average-pooled to ``z_p`` of ``C`` channels) gets its
    own squeeze-and-excitation attention ``a_p = sigmoid(W2 relu(W1 z_p))``
    (``C -> C / reduction -> C``); the attended vector ``l_p = a_p * z_p``
    (channel scaling commutes with the pooling) is what the diversity loss
    compares across patches, and a per-patch ``1 x 1`` projection ``C -> D``
    with batch norm gives the patch embedding. All ``P`` attentions and
    projections run as grouped ``1 x 1`` convolutions.

    Args:
        in_channels (int): ``C``, channels of the backbone map.
        num_patches (int): ``P``. Defaults to 6.
        patch_channels (int): ``D``. Defaults to 256.
        reduction (int): Squeeze ratio of the attention. Defaults to 16.
        attention (bool): False skips the attention (``l_p = z_p``), the
            ablation without channel attention. Defaults to True.
        init_cfg (dict, optional): MMEngine init config.
    """

    def __init__(self,
                 in_channels: int,
                 num_patches: int = 6,
                 patch_channels: int = 256,
                 reduction: int = 16,
                 attention: bool = True,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_patches < 1 or reduction < 1:
            raise ValueError('PatchAttentionNeck: num_patches and reduction '
                             f'must be >= 1, got {num_patches}, {reduction}')
        self.in_channels = in_channels
        self.num_patches = num_patches
        self.patch_channels = patch_channels
        hidden = max(in_channels // reduction, 1)
        groups = num_patches
        self.attention = nn.Sequential(
            nn.Conv1d(groups * in_channels, groups * hidden, 1, groups=groups),
            nn.ReLU(inplace=True),
            nn.Conv1d(groups * hidden, groups * in_channels, 1,
                      groups=groups),
            nn.Sigmoid()) if attention else None
        self.projection = nn.Conv1d(
            groups * in_channels,
            groups * patch_channels,
            1,
            groups=groups,
            bias=False)
        self.bn = nn.BatchNorm1d(groups * patch_channels)
        nn.init.constant_(self.bn.weight, 1.0)
        nn.init.constant_(self.bn.bias, 0.0)
        self.bn.bias.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Attend and project each patch.

        Args:
            x (Tensor): ``(B, C, H, W)`` backbone map (``H >= P``).

        Returns:
            tuple[Tensor, Tensor]: the attended patch vectors ``l`` ``(B, P,
            C)`` and the patch embeddings ``(B, P, D)`` (not normalised).
        """
        if x.dim() != 4 or x.size(1) != self.in_channels:
            raise ValueError(
                f'PatchAttentionNeck: expected a (B, {self.in_channels}, H, '
                f'W) map, got {tuple(x.shape)}')
        batch = x.size(0)
        pooled = F.adaptive_avg_pool2d(x, (self.num_patches, 1))
        # (B, C, P, 1) -> (B, P * C, 1), patch-major for the groups.
        pooled = pooled.squeeze(3).transpose(1, 2).reshape(batch, -1, 1)
        attended = pooled if self.attention is None else (
            pooled * self.attention(pooled))
        patches = self.bn(self.projection(attended))
        return (attended.view(batch, self.num_patches, -1),
                patches.view(batch, self.num_patches, -1))
