"""An affine patch generator (PAUL's STN-like patch generation module)."""
from typing import Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmreid_unsup.registry import MODELS


def stripe_thetas(num_patches: int) -> torch.Tensor:
    """Affine parameters of ``num_patches`` equal horizontal stripes.

    Patch ``s`` (top first) keeps the full width and samples the rows of
    ``[-1 + 2s/S, -1 + 2(s+1)/S]`` in normalised coordinates: ``x_in =
    x_out`` and ``y_in = y_out / S + (-1 + (2s + 1) / S)``. For ``S = 6``
    these are PAUL's ``scale_y = 1/6`` and ``t_y`` in ``{-5/6, -3/6, -1/6,
    1/6, 3/6, 5/6}``.

    Args:
        num_patches (int): ``S``.

    Returns:
        Tensor: ``(S, 2, 3)`` float32.
    """
    thetas = torch.zeros(num_patches, 2, 3)
    thetas[:, 0, 0] = 1.0
    thetas[:, 1, 1] = 1.0 / num_patches
    thetas[:, 1, 2] = torch.tensor(
        [-1.0 + (2 * s + 1) / num_patches for s in range(num_patches)])
    return thetas


@MODELS.register_module()
class PatchGenerator(BaseModule):
    """Crop ``S`` patches out of a feature map with learned affine grids.

    PAUL's patch generation module (Yang et al., CVPR 2019,
    ``src/models/patchnet.py``), as GSL uses it. A localisation network
    predicts one affine transform per patch from the whole map::

        Conv3x3(C -> hidden) + BN + ReLU, MaxPool(3, stride 2, pad 1),
        global average pool, Linear(hidden -> fc) + ReLU,
        Linear(fc -> 6 S)    # S affine matrices (2 x 3)

    and each patch is ``grid_sample(x, affine_grid(theta_s))``: a map of
    the input's size. The last linear layer starts with zero weights and a
    bias equal to :func:`stripe_thetas`, so at initialisation every patch is
    one of ``S`` equal horizontal stripes, for any input, and the patches
    depart from the stripes only as that layer learns.

    The grids use ``align_corners=False``: normalised coordinates refer to
    pixel edges, so a stripe covers exactly ``H / S`` rows of the map (PAUL
    was written for a PyTorch whose default was ``align_corners=True``,
    where the stripes cover slightly different rows). With
    ``interpolation='nearest'`` and ``H`` a multiple of ``S`` the initial
    patches are the stripes' rows repeated ``S`` times; with the default
    bilinear sampling (needed for gradients to reach the transforms) the
    rows at a stripe's edges blend with their neighbours.

    Args:
        in_channels (int): ``C``. Defaults to 2048 (ResNet-50).
        num_patches (int): ``S``. Defaults to 6 (PAUL).
        hidden_channels (int): Channels of the localisation conv. Defaults
            to 4096 (PAUL).
        fc_channels (int): Width of the hidden linear layer. Defaults to 512
            (PAUL).
        conv_padding (int): Padding of the 3x3 conv. Defaults to 0 (PAUL);
            1 keeps maps smaller than 3x3 (tiny inputs) valid.
        interpolation (str): ``grid_sample`` mode, ``'bilinear'`` or
            ``'nearest'``. Defaults to ``'bilinear'`` (PAUL).
        padding_mode (str): ``grid_sample`` padding mode. Defaults to
            ``'zeros'`` (PAUL).
        init_cfg (dict, optional): MMEngine init config. Defaults to None:
            Kaiming-normal (fan-out) conv, BN weight 1 and bias 0, PyTorch's
            default linear layers, stripe-initialised last layer.
    """

    interpolations = ('bilinear', 'nearest')

    def __init__(self,
                 in_channels: int = 2048,
                 num_patches: int = 6,
                 hidden_channels: int = 4096,
                 fc_channels: int = 512,
                 conv_padding: int = 0,
                 interpolation: str = 'bilinear',
                 padding_mode: str = 'zeros',
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_patches < 1:
            raise ValueError('PatchGenerator: num_patches must be >= 1, got '
                             f'{num_patches}')
        if interpolation not in self.interpolations:
            raise ValueError('PatchGenerator: interpolation must be one of '
                             f'{self.interpolations}, got {interpolation!r}')
        self.in_channels = in_channels
        self.num_patches = num_patches
        self.interpolation = interpolation
        self.padding_mode = padding_mode
        self.localization = nn.Sequential(
            nn.Conv2d(
                in_channels,
                hidden_channels,
                kernel_size=3,
                padding=conv_padding),
            nn.BatchNorm2d(hidden_channels), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
        self.fc_loc = nn.Sequential(
            nn.Linear(hidden_channels, fc_channels), nn.ReLU(inplace=True),
            nn.Linear(fc_channels, 6 * num_patches))
        nn.init.kaiming_normal_(
            self.localization[0].weight, mode='fan_out', nonlinearity='relu')
        nn.init.ones_(self.localization[1].weight)
        nn.init.zeros_(self.localization[1].bias)
        self.reset_to_stripes()

    def reset_to_stripes(self) -> None:
        """Zero the last layer's weights and set its bias to the stripes."""
        last = self.fc_loc[-1]
        with torch.no_grad():
            last.weight.zero_()
            last.bias.copy_(stripe_thetas(self.num_patches).flatten())

    def thetas(self, x: torch.Tensor) -> torch.Tensor:
        """The affine matrices of the patches of each map.

        Args:
            x (Tensor): ``(B, C, H, W)``.

        Returns:
            Tensor: ``(B, S, 2, 3)``.
        """
        if x.dim() != 4 or x.size(1) != self.in_channels:
            raise ValueError(
                f'PatchGenerator: expected a (B, {self.in_channels}, H, W) '
                f'map, got {tuple(x.shape)}')
        hidden = self.localization(x).mean((2, 3))
        return self.fc_loc(hidden).view(-1, self.num_patches, 2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Sample the patches.

        Args:
            x (Tensor): ``(B, C, H, W)``.

        Returns:
            Tensor: ``(B, S, C, H, W)``, patch ``s`` at index ``s``.
        """
        thetas = self.thetas(x).to(x.dtype)
        patches = []
        for s in range(self.num_patches):
            grid = F.affine_grid(
                thetas[:, s], list(x.shape), align_corners=False)
            patches.append(
                F.grid_sample(
                    x,
                    grid,
                    mode=self.interpolation,
                    padding_mode=self.padding_mode,
                    align_corners=False))
        return torch.stack(patches, dim=1)
