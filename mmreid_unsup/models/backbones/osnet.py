"""OSNet (Omni-Scale Network) backbone.

Zhou, Yang, Cavallaro, Xiang, "Omni-Scale Feature Learning for Person
Re-Identification", ICCV 2019.

Module and parameter names follow torchreid's ``osnet_x*`` models, so a
torchreid state_dict (minus ``classifier.*``) splits into an :class:`OSNet`
part and an :class:`~mmreid_unsup.models.necks.OSNetFCNeck` part (its
``fc.*`` keys) that both load with strict key matching.
``tools/model_converters/torchreid2mmreid.py`` writes such a checkpoint
with the model prefixes ``backbone.`` and ``neck.``.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch.nn.modules.batchnorm import _BatchNorm

from mmreid_unsup.registry import MODELS


class ConvBN(nn.Sequential):
    """Convolution without bias, BatchNorm, then optionally ReLU.

    Submodules are named ``conv``, ``bn`` (and ``relu``), as torchreid's
    ``ConvLayer``, ``Conv1x1`` (with ReLU) and ``Conv1x1Linear`` (without).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int): Kernel size. Defaults to 1.
        stride (int): Stride. Defaults to 1.
        padding (int): Zero padding. Defaults to 0.
        relu (bool): End with a ReLU. Defaults to True.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int = 1,
                 stride: int = 1,
                 padding: int = 0,
                 relu: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            bias=False)
        self.bn = nn.BatchNorm2d(out_channels)
        if relu:
            self.relu = nn.ReLU(inplace=True)


class LiteConv3x3(nn.Module):
    """The "Lite 3x3" layer: a pointwise linear 1x1 convolution followed by a
    depthwise 3x3 convolution, BatchNorm and ReLU (paper, Fig. 3).

    Args:
        channels (int): Input and output channels.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 1, bias=False)
        self.conv2 = nn.Conv2d(
            channels, channels, 3, padding=1, groups=channels, bias=False)
        self.bn = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the layer; the spatial size is kept."""
        return self.relu(self.bn(self.conv2(self.conv1(x))))


class ChannelGate(nn.Module):
    """The unified aggregation gate: channel weights computed from the input.

    Global average pooling, a bottleneck of two 1x1 convolutions (with bias,
    ReLU between them) and a sigmoid give one weight in ``(0, 1)`` per
    channel, by which the input is multiplied.

    Args:
        channels (int): Input channels.
        reduction (int): Bottleneck reduction ratio. Defaults to 16.
    """

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        hidden = channels // reduction
        if hidden < 1:
            raise ValueError(f'ChannelGate: {channels} channels are too few '
                             f'for reduction {reduction}')
        self.fc1 = nn.Conv2d(channels, hidden, 1, bias=True)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(hidden, channels, 1, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reweight the channels of ``x`` (shape ``(B, C, H, W)``)."""
        weights = F.adaptive_avg_pool2d(x, 1)
        weights = self.fc2(self.relu(self.fc1(weights)))
        return x * torch.sigmoid(weights)


class OSBlock(nn.Module):
    """Omni-scale residual bottleneck (paper, Fig. 4).

    A 1x1 reduction to ``out_channels // 4`` channels feeds four streams of
    1, 2, 3 and 4 stacked :class:`LiteConv3x3` layers (receptive fields 3,
    5, 7 and 9). One :class:`ChannelGate`, shared by the four streams,
    weights each stream's output and the weighted outputs are summed. A
    linear 1x1 expansion plus the shortcut (a linear 1x1 projection when the
    channels change) and a final ReLU give the output.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        bottleneck_reduction (int): Ratio of ``out_channels`` to the
            streams' channels. Defaults to 4.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 bottleneck_reduction: int = 4) -> None:
        super().__init__()
        mid_channels = out_channels // bottleneck_reduction
        self.conv1 = ConvBN(in_channels, mid_channels)
        # torchreid's names: the one-layer stream is a bare layer, the
        # deeper ones are Sequentials (conv2b.0, conv2b.1, ...).
        self.conv2a = LiteConv3x3(mid_channels)
        self.conv2b = nn.Sequential(
            *[LiteConv3x3(mid_channels) for _ in range(2)])
        self.conv2c = nn.Sequential(
            *[LiteConv3x3(mid_channels) for _ in range(3)])
        self.conv2d = nn.Sequential(
            *[LiteConv3x3(mid_channels) for _ in range(4)])
        self.gate = ChannelGate(mid_channels)
        self.conv3 = ConvBN(mid_channels, out_channels, relu=False)
        self.downsample: Optional[nn.Module] = None
        if in_channels != out_channels:
            self.downsample = ConvBN(in_channels, out_channels, relu=False)

    @property
    def streams(self) -> Tuple[nn.Module, ...]:
        """The four streams, from the smallest receptive field up."""
        return (self.conv2a, self.conv2b, self.conv2c, self.conv2d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block; the spatial size is kept.

        Args:
            x (Tensor): Shape ``(B, in_channels, H, W)``.

        Returns:
            Tensor: Shape ``(B, out_channels, H, W)``.
        """
        reduced = self.conv1(x)
        fused = sum(self.gate(stream(reduced)) for stream in self.streams)
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(self.conv3(fused) + identity)


@MODELS.register_module()
class OSNet(BaseModule):
    """OSNet backbone (Zhou et al., ICCV 2019), torchreid-compatible names.

    Layout (``C = channels`` of the arch):

    - ``conv1``: 7x7 conv, stride 2, BN, ReLU to ``C[0]``; then 3x3 max
      pooling, stride 2.
    - ``conv2``, ``conv3``: two :class:`OSBlock` each (to ``C[1]``,
      ``C[2]``) and a transition (1x1 conv-BN-ReLU, 2x2 average pooling).
    - ``conv4``: two :class:`OSBlock` to ``C[3]``, no pooling.
    - ``conv5``: 1x1 conv-BN-ReLU, ``C[3]`` channels.

    The output is the ``conv5`` feature map, 1/16 of the input size (a
    256x128 crop gives a 16x8 map). Pool it with a neck: ``BNNeck`` for
    Cluster-Contrast, or :class:`OSNetFCNeck` to reproduce torchreid's
    512-d embedding.

    Parameter and buffer names equal those of torchreid's ``osnet_x1_0`` ...
    ``osnet_x0_25`` minus ``fc.*`` (see :class:`OSNetFCNeck`) and
    ``classifier.*``. Load torchreid weights by converting them with
    ``tools/model_converters/torchreid2mmreid.py`` and either giving the
    whole model ``init_cfg=dict(type='Pretrained', checkpoint=PATH)``, or
    this backbone alone ``init_cfg=dict(type='Pretrained', checkpoint=PATH,
    prefix='backbone.')``.

    Args:
        arch (str): Width: ``'x1_0'`` (channels 64, 256, 384, 512),
            ``'x0_75'``, ``'x0_5'`` or ``'x0_25'`` (16, 64, 96, 128).
            Defaults to ``'x1_0'``.
        frozen_stages (int): Stages whose parameters are frozen and whose
            norm layers stay in eval mode: ``-1`` none, ``0`` ``conv1``,
            ``i >= 1`` ``conv1`` and ``conv2`` ... ``conv{i+1}`` (4 freezes
            everything). Defaults to -1.
        norm_eval (bool): Keep every BatchNorm layer in eval mode (running
            statistics frozen) during training. Defaults to False.
        init_cfg (dict or list[dict], optional): MMEngine init config.
            Defaults to torchreid's random initialisation: Kaiming normal
            (``fan_out``) convolutions with zero bias, BatchNorm weight 1 and
            bias 0.

    Attributes:
        channels (tuple[int]): The arch's four channel widths.
        out_channels (int): Channels of the returned map (``channels[-1]``).
    """

    arch_settings: Dict[str, Tuple[int, int, int, int]] = {
        'x1_0': (64, 256, 384, 512),
        'x0_75': (48, 192, 288, 384),
        'x0_5': (32, 128, 192, 256),
        'x0_25': (16, 64, 96, 128),
    }
    blocks_per_stage: Tuple[int, int, int] = (2, 2, 2)

    def __init__(
        self,
        arch: str = 'x1_0',
        frozen_stages: int = -1,
        norm_eval: bool = False,
        init_cfg: Optional[Union[dict, List[dict]]] = [
            dict(
                type='Kaiming',
                layer='Conv2d',
                mode='fan_out',
                nonlinearity='relu',
                distribution='normal',
                bias=0),
            dict(type='Constant', layer='BatchNorm2d', val=1, bias=0)
        ]
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if arch not in self.arch_settings:
            raise KeyError(f'OSNet: invalid arch {arch!r}, choose from '
                           f'{sorted(self.arch_settings)}')
        if not -1 <= frozen_stages <= 4:
            raise ValueError('OSNet: frozen_stages must be in [-1, 4], got '
                             f'{frozen_stages}')
        self.arch = arch
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.channels = self.arch_settings[arch]
        self.out_channels = self.channels[-1]

        c0, c1, c2, c3 = self.channels
        n2, n3, n4 = self.blocks_per_stage
        self.conv1 = ConvBN(3, c0, kernel_size=7, stride=2, padding=3)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.conv2 = self._make_stage(c0, c1, n2, downsample=True)
        self.conv3 = self._make_stage(c1, c2, n3, downsample=True)
        self.conv4 = self._make_stage(c2, c3, n4, downsample=False)
        self.conv5 = ConvBN(c3, c3)
        self._freeze_stages()

    @staticmethod
    def _make_stage(in_channels: int, out_channels: int, num_blocks: int,
                    downsample: bool) -> nn.Sequential:
        """``num_blocks`` OSBlocks, then (if ``downsample``) a transition
        layer that halves the spatial size."""
        layers: List[nn.Module] = [OSBlock(in_channels, out_channels)]
        layers += [
            OSBlock(out_channels, out_channels) for _ in range(num_blocks - 1)
        ]
        if downsample:
            layers.append(
                nn.Sequential(
                    ConvBN(out_channels, out_channels),
                    nn.AvgPool2d(2, stride=2)))
        return nn.Sequential(*layers)

    def _stages(self) -> Sequence[nn.Module]:
        """``conv1`` (the stem), ``conv2`` ... ``conv5``."""
        return (self.conv1, self.conv2, self.conv3, self.conv4, self.conv5)

    def _freeze_stages(self) -> None:
        """Freeze the parameters of stages ``0..frozen_stages``."""
        for stage in self._stages()[:self.frozen_stages + 1]:
            stage.eval()
            for param in stage.parameters():
                param.requires_grad = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Compute the ``conv5`` feature map.

        Args:
            x (Tensor): Normalised RGB images, shape ``(B, 3, H, W)``.

        Returns:
            Tensor: Shape ``(B, out_channels, H / 16, W / 16)`` (sizes
            rounded as the convolutions and poolings round them).
        """
        x = self.maxpool(self.conv1(x))
        x = self.conv2(x)
        x = self.conv3(x)
        x = self.conv4(x)
        return self.conv5(x)

    def train(self, mode: bool = True) -> 'OSNet':
        """Set train mode, keeping frozen stages and, if asked, all norms in
        eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self
