"""Align one image's map to another's and compare them patch by patch."""
from typing import Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torchvision.ops import deform_conv2d

from mmreid_unsup.registry import MODELS
from .non_local_block import NonLocalBlock


@MODELS.register_module()
class CrossImageAlignment(BaseModule):
    """PPSSL's inter-similarity: deformable alignment of a pair of images.

    For a pair of backbone maps ``(F_a, F_b)``:

    1. both are reduced to ``channels`` by a shared ``1 x 1`` convolution
       and batch norm (``R_a``, ``R_b``);
    2. a :class:`NonLocalBlock` runs over the pair side by side (``R_a`` and
       ``R_b`` concatenated along the width), so every position of one image
       sees every position of the other;
    3. a ``3 x 3`` convolution of the two halves predicts, at every position
       of ``R_a``, the ``2 k^2`` sampling offsets of a ``k x k`` deformable
       convolution (``torchvision.ops.deform_conv2d``) that resamples
       ``R_b`` onto ``R_a``'s grid;
    4. the similarity of the pair is the mean over ``P`` horizontal patches
       of the cosine between ``R_a`` and the aligned ``R_b``, each
       average-pooled over the patch.

    The offsets start at zero and the deformable kernel is the identity at
    its centre, so a new module compares the unaligned maps. By default the
    kernel stays fixed (a pure learned resampling of ``R_b``: the module can
    only move features, not change them, so it cannot make two different
    images look alike by projecting them onto one direction);
    ``learnable_kernel=True`` trains it too.

    Args:
        in_channels (int): Channels of the backbone map.
        channels (int): Channels after the reduction. Defaults to 256.
        num_patches (int): ``P``. Defaults to 6.
        kernel_size (int): ``k`` of the deformable convolution. Defaults
            to 3.
        learnable_kernel (bool): Train the deformable kernel. Defaults to
            False.
        init_cfg (dict, optional): MMEngine init config.
    """

    def __init__(self,
                 in_channels: int,
                 channels: int = 256,
                 num_patches: int = 6,
                 kernel_size: int = 3,
                 learnable_kernel: bool = False,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError('CrossImageAlignment: kernel_size must be odd, '
                             f'got {kernel_size}')
        self.num_patches = num_patches
        self.kernel_size = kernel_size
        self.reduce = nn.Sequential(
            nn.Conv2d(in_channels, channels, 1, bias=False),
            nn.BatchNorm2d(channels))
        self.non_local = NonLocalBlock(channels)
        self.offset = nn.Conv2d(
            2 * channels, 2 * kernel_size**2, 3, padding=1)
        nn.init.zeros_(self.offset.weight)
        nn.init.zeros_(self.offset.bias)
        kernel = torch.zeros(channels, channels, kernel_size, kernel_size)
        centre = kernel_size // 2
        kernel[:, :, centre, centre] = torch.eye(channels)
        if learnable_kernel:
            self.kernel = nn.Parameter(kernel)
        else:
            self.register_buffer('kernel', kernel, persistent=False)

    def offsets(self, reduced_a: torch.Tensor,
                reduced_b: torch.Tensor) -> torch.Tensor:
        """The sampling offsets that move ``R_b`` onto ``R_a``.

        Args:
            reduced_a (Tensor): ``(B, c, H, W)``.
            reduced_b (Tensor): ``(B, c, H, W)``.

        Returns:
            Tensor: ``(B, 2 k^2, H, W)``.
        """
        width = reduced_a.size(3)
        joint = self.non_local(torch.cat([reduced_a, reduced_b], dim=3))
        return self.offset(
            torch.cat([joint[..., :width], joint[..., width:]], dim=1))

    def align(self, reduced_b: torch.Tensor,
              offsets: torch.Tensor) -> torch.Tensor:
        """Resample ``R_b`` with the deformable kernel at ``offsets``."""
        return deform_conv2d(
            reduced_b,
            offsets,
            self.kernel.to(reduced_b.dtype),
            padding=self.kernel_size // 2)

    def patch_similarity(self, map_a: torch.Tensor,
                         map_b: torch.Tensor) -> torch.Tensor:
        """Mean over patches of the cosine of the pooled patches.

        Args:
            map_a (Tensor): ``(B, c, H, W)``.
            map_b (Tensor): ``(B, c, H, W)``.

        Returns:
            Tensor: ``(B,)`` similarities in ``[-1, 1]``.
        """
        size = (self.num_patches, 1)
        patches_a = F.adaptive_avg_pool2d(map_a, size).flatten(2)
        patches_b = F.adaptive_avg_pool2d(map_b, size).flatten(2)
        return F.cosine_similarity(patches_a, patches_b, dim=1).mean(dim=1)

    def forward(self, map_a: torch.Tensor,
                map_b: torch.Tensor) -> torch.Tensor:
        """The aligned cross-image similarity of each pair.

        Args:
            map_a (Tensor): ``(B, C, H, W)`` backbone maps of the anchors.
            map_b (Tensor): ``(B, C, H, W)`` maps of the images compared
                with them.

        Returns:
            Tensor: ``(B,)`` similarities ``s_ab``.
        """
        if map_a.shape != map_b.shape:
            raise ValueError('CrossImageAlignment: the maps of a pair must '
                             f'have one shape, got {tuple(map_a.shape)} and '
                             f'{tuple(map_b.shape)}')
        reduced_a, reduced_b = self.reduce(map_a), self.reduce(map_b)
        aligned_b = self.align(reduced_b, self.offsets(reduced_a, reduced_b))
        return self.patch_similarity(reduced_a, aligned_b)
