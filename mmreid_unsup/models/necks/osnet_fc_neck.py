"""torchreid's OSNet embedding layer as a neck."""
from typing import List, Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmreid_unsup.registry import MODELS


@MODELS.register_module()
class OSNetFCNeck(BaseModule):
    """torchreid's OSNet embedding: global average pooling, then ``fc``
    (Linear, BatchNorm1d, ReLU).

    With the weights of a torchreid OSNet, the output equals the torchreid
    model's eval-mode output (its ``fc`` feature, before the classifier);
    :class:`~mmreid_unsup.models.BaseReIDModel` then L2-normalises it. The
    submodule is named ``fc`` with torchreid's indices (``fc.0`` Linear,
    ``fc.1`` BatchNorm1d), so the converted checkpoint's ``neck.fc.*`` keys
    load. For example::

        model = dict(
            type='BaseReIDModel',
            backbone=dict(type='OSNet', arch='x0_25'),
            neck=dict(type='OSNetFCNeck', in_channels=128),
            init_cfg=dict(type='Pretrained',
                          checkpoint='osnet_x0_25_msmt17_mmreid.pth'))

    The output is non-negative (it ends with a ReLU), and in training mode
    the BatchNorm1d needs more than one sample per batch.

    Args:
        in_channels (int): Channels of the input map (the backbone's
            ``out_channels``).
        out_channels (int): Embedding size. Defaults to 512 (torchreid's
            ``feature_dim``).
        init_cfg (dict or list[dict], optional): MMEngine init config.
            Defaults to torchreid's: Linear weights normal with std 0.01,
            zero bias; BatchNorm1d weight 1, bias 0.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int = 512,
        init_cfg: Optional[Union[dict, List[dict]]] = [
            dict(type='Normal', layer='Linear', std=0.01, bias=0),
            dict(type='Constant', layer='BatchNorm1d', val=1, bias=0)
        ]
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(
            nn.Linear(in_channels, out_channels), nn.BatchNorm1d(out_channels),
            nn.ReLU(inplace=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pool the map and embed it.

        Args:
            x (Tensor): Feature map, shape ``(B, in_channels, H, W)``.

        Returns:
            Tensor: Shape ``(B, out_channels)``, not normalised.
        """
        return self.fc(self.pool(x).flatten(1))
