"""Embedded-Gaussian non-local block (Wang et al., CVPR 2018)."""
from typing import Optional

import torch
import torch.nn as nn


class NonLocalBlock(nn.Module):
    """Every position attends to every other one, with a residual.

    ``y = x + BN(W_o (softmax(theta(x)^T phi(x) / sqrt(d)) g(x)))``, where
    ``theta``, ``phi``, ``g`` and ``W_o`` are ``1 x 1`` convolutions. The
    output batch norm starts at zero scale, so a new block is the identity.

    Args:
        in_channels (int): Channels of the input.
        inter_channels (int, optional): ``d``, channels of the embeddings.
            Defaults to ``in_channels // 2``.
    """

    def __init__(self,
                 in_channels: int,
                 inter_channels: Optional[int] = None) -> None:
        super().__init__()
        inter_channels = inter_channels or max(in_channels // 2, 1)
        self.inter_channels = inter_channels
        self.theta = nn.Conv2d(in_channels, inter_channels, 1)
        self.phi = nn.Conv2d(in_channels, inter_channels, 1)
        self.g = nn.Conv2d(in_channels, inter_channels, 1)
        self.out = nn.Sequential(
            nn.Conv2d(inter_channels, in_channels, 1, bias=False),
            nn.BatchNorm2d(in_channels))
        nn.init.zeros_(self.out[1].weight)
        nn.init.zeros_(self.out[1].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args:
            x (Tensor): ``(B, C, H, W)``.

        Returns:
            Tensor: ``(B, C, H, W)``.
        """
        batch, _, height, width = x.shape
        theta = self.theta(x).flatten(2).transpose(1, 2)  # (B, HW, d)
        phi = self.phi(x).flatten(2)  # (B, d, HW)
        g = self.g(x).flatten(2).transpose(1, 2)  # (B, HW, d)
        affinity = torch.softmax(
            theta @ phi / self.inter_channels**0.5, dim=-1)
        y = (affinity @ g).transpose(1, 2).reshape(batch, -1, height, width)
        return x + self.out(y)
