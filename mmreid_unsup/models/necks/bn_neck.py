"""Global pooling followed by a BatchNorm1d (the re-ID "BNNeck")."""
from typing import Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmreid_unsup.registry import MODELS
from .gem import GeneralizedMeanPooling


@MODELS.register_module()
class BNNeck(BaseModule):
    """Pool a feature map to a vector and batch-normalise it.

    The BatchNorm starts at weight 1, bias 0, and its bias is frozen
    (``requires_grad=False``): Cluster-Contrast's neck, with no embedding FC,
    dropout or classifier. The output is *not* L2-normalised here; the model
    normalises it.

    Args:
        in_channels (int): Channels of the input map, also the output size.
        pooling (str): ``'gem'`` (:class:`GeneralizedMeanPooling`, learned
            ``p`` from 3), ``'avg'`` or ``'max'``. Defaults to ``'gem'``.
        init_cfg (dict, optional): MMEngine init config. Defaults to None.
    """

    poolings = ('gem', 'avg', 'max')

    def __init__(self,
                 in_channels: int,
                 pooling: str = 'gem',
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if pooling not in self.poolings:
            raise ValueError(f'BNNeck: pooling must be one of {self.poolings}'
                             f', got {pooling!r}')
        self.in_channels = in_channels
        self.pooling = pooling
        if pooling == 'gem':
            self.pool: nn.Module = GeneralizedMeanPooling()
        elif pooling == 'avg':
            self.pool = nn.AdaptiveAvgPool2d(1)
        else:
            self.pool = nn.AdaptiveMaxPool2d(1)
        self.bn = nn.BatchNorm1d(in_channels)
        nn.init.ones_(self.bn.weight)
        nn.init.zeros_(self.bn.bias)
        self.bn.bias.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pool and normalise.

        Args:
            x (Tensor): Feature map, shape ``(B, in_channels, H, W)``.

        Returns:
            Tensor: Shape ``(B, in_channels)``.
        """
        return self.bn(self.pool(x).flatten(1))
