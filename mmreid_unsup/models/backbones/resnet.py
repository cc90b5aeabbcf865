"""ResNet backbone with a configurable last stride (torchvision weights)."""
from typing import Dict, Optional, Tuple, Type, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch.nn.modules.batchnorm import _BatchNorm
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

from mmreid_unsup.registry import MODELS

Block = Union[Type[BasicBlock], Type[Bottleneck]]


@MODELS.register_module()
class ReIDResNet(BaseModule):
    """torchvision ResNet as a re-ID backbone.

    The network is torchvision's ResNet without ``avgpool`` and ``fc``; it
    returns the feature map of ``layer4``. Submodule names are torchvision's
    (``conv1``, ``bn1``, ``layer1`` ... ``layer4``), so an ImageNet checkpoint
    loads with ``init_cfg=dict(type='Pretrained',
    checkpoint='torchvision://resnet50')``; the checkpoint's ``fc.*`` keys are
    reported as unexpected and ignored.

    With ``last_stride=1`` (the re-ID convention) the first block of
    ``layer4`` does not downsample: the stride of its strided conv (``conv1``
    of a ``BasicBlock``, ``conv2`` of a ``Bottleneck``) and of its shortcut
    conv is set to 1, so the output is 1/16 of the input size instead of
    1/32 (a 256x128 crop gives a 16x8 map).

    Args:
        depth (int): 18, 34, 50, 101 or 152.
        last_stride (int): Stride of ``layer4``, 1 or 2. Defaults to 1.
        frozen_stages (int): Stages whose parameters are frozen and whose
            norm layers stay in eval mode: ``-1`` none, ``0`` the stem,
            ``i >= 1`` the stem and ``layer1`` ... ``layer{i}``.
            Defaults to -1.
        norm_eval (bool): Keep every BatchNorm layer in eval mode (running
            statistics frozen) during training. Defaults to False.
        init_cfg (dict or list[dict], optional): MMEngine init config, e.g.
            ``dict(type='Pretrained', checkpoint='torchvision://resnet50')``.
            Defaults to None: torchvision's random initialisation.

    Attributes:
        out_channels (int): Channels of the returned feature map (512 for
            depth 18/34, 2048 for 50 and deeper).
    """

    arch_settings: Dict[int, Tuple[Block, Tuple[int, int, int, int]]] = {
        18: (BasicBlock, (2, 2, 2, 2)),
        34: (BasicBlock, (3, 4, 6, 3)),
        50: (Bottleneck, (3, 4, 6, 3)),
        101: (Bottleneck, (3, 4, 23, 3)),
        152: (Bottleneck, (3, 8, 36, 3)),
    }

    def __init__(self,
                 depth: int = 50,
                 last_stride: int = 1,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if depth not in self.arch_settings:
            raise KeyError(f'ReIDResNet: invalid depth {depth}, choose from '
                           f'{sorted(self.arch_settings)}')
        if last_stride not in (1, 2):
            raise ValueError(
                f'ReIDResNet: last_stride must be 1 or 2, got {last_stride}')
        if not -1 <= frozen_stages <= 4:
            raise ValueError('ReIDResNet: frozen_stages must be in [-1, 4], '
                             f'got {frozen_stages}')
        self.depth = depth
        self.last_stride = last_stride
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval

        block, layers = self.arch_settings[depth]
        net = ResNet(block, list(layers))
        # Same attribute names as torchvision: checkpoint keys match.
        self.conv1 = net.conv1
        self.bn1 = net.bn1
        self.relu = net.relu
        self.maxpool = net.maxpool
        self.layer1 = net.layer1
        self.layer2 = net.layer2
        self.layer3 = net.layer3
        self.layer4 = net.layer4
        self.out_channels = 512 * block.expansion
        if last_stride == 1:
            self._remove_last_stride()
        self._freeze_stages()

    def _remove_last_stride(self) -> None:
        """Make the first block of ``layer4`` keep the spatial size."""
        first = self.layer4[0]
        strided_conv = first.conv1 if isinstance(first,
                                                 BasicBlock) else first.conv2
        strided_conv.stride = (1, 1)
        if first.downsample is not None:
            first.downsample[0].stride = (1, 1)

    def _stages(self) -> Tuple[nn.Module, ...]:
        """The stem followed by the four residual stages."""
        stem = nn.ModuleList([self.conv1, self.bn1])
        return (stem, self.layer1, self.layer2, self.layer3, self.layer4)

    def _freeze_stages(self) -> None:
        """Freeze the parameters of stages ``0..frozen_stages``."""
        for stage in self._stages()[:self.frozen_stages + 1]:
            stage.eval()
            for param in stage.parameters():
                param.requires_grad = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Compute the ``layer4`` feature map.

        Args:
            x (Tensor): Images, shape ``(B, 3, H, W)``.

        Returns:
            Tensor: Shape ``(B, out_channels, H / 16, W / 16)`` with
            ``last_stride=1`` (``H / 32, W / 32`` with 2).
        """
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        return self.layer4(x)

    def train(self, mode: bool = True) -> 'ReIDResNet':
        """Set train mode, keeping frozen stages and, if asked, all norms in
        eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self
