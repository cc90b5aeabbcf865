"""A global embedding plus one embedding per horizontal stripe (SCL)."""
from typing import Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule, ModuleList

from mmreid_unsup.registry import MODELS


@MODELS.register_module()
class GlobalStripeNeck(BaseModule):
    """Global and stripe (local) embeddings of a feature map.

    - Global: average pooling over the whole map, ``Linear(C, Dg)``,
      ``BatchNorm1d(Dg)``. The linear layer has Kaiming-normal (fan-out)
      weights and a zero bias, the BN weight 1 and bias 0.
    - Local: the map is cut into ``S`` horizontal stripes, each average
      pooled and embedded by its own ``Linear(C, Dl)`` + ``BatchNorm1d(Dl)``
      (PyTorch's default initialisation).

    This is SCL's ``End2End_AvgPooling`` head (``modeling/end2end.py``):
    2048-d global and 8 x 256-d stripes on a ResNet-50 ``layer4`` map. The
    stripes are pooled with ``adaptive_avg_pool2d(x, (S, 1))``, which equals
    the reference's ``H // S`` rows per stripe when ``H`` is a multiple of
    ``S`` (16 rows for 256x128 inputs) and still works when it is not.
    Nothing is L2-normalised here; the model normalises each embedding.

    ``global_embed`` replaces the global branch by any neck config that
    turns the ``(B, C, H, W)`` map into ``(B, Dg)``, e.g. the pretrained
    ``OSNetFCNeck`` of the CPU protocol, so that SCL starts from the model it
    adapts instead of a random projection; its own ``init_cfg`` (e.g.
    ``Pretrained``) runs in ``init_weights``. The stripes stay new.

    Args:
        in_channels (int): Channels ``C`` of the input map. Defaults to 2048.
        global_channels (int): ``Dg``. Defaults to 2048.
        num_stripes (int): ``S``. Defaults to 8.
        stripe_channels (int): ``Dl``. Defaults to 256.
        global_embed (dict, optional): A neck config for the global branch
            instead of SCL's ``Linear`` + ``BatchNorm1d`` (it must output
            ``global_channels``). Defaults to None.
        init_cfg (dict, optional): MMEngine init config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int = 2048,
                 global_channels: int = 2048,
                 num_stripes: int = 8,
                 stripe_channels: int = 256,
                 global_embed: Optional[dict] = None,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_stripes < 1:
            raise ValueError('GlobalStripeNeck: num_stripes must be >= 1, '
                             f'got {num_stripes}')
        self.in_channels = in_channels
        self.global_channels = global_channels
        self.num_stripes = num_stripes
        self.stripe_channels = stripe_channels

        self.global_embed: Optional[nn.Module] = None
        if global_embed is None:
            self.global_fc = nn.Linear(in_channels, global_channels)
            self.global_bn = nn.BatchNorm1d(global_channels)
            nn.init.kaiming_normal_(self.global_fc.weight, mode='fan_out')
            nn.init.zeros_(self.global_fc.bias)
            nn.init.ones_(self.global_bn.weight)
            nn.init.zeros_(self.global_bn.bias)
        else:
            self.global_embed = MODELS.build(global_embed)
            out = getattr(self.global_embed, 'out_channels', global_channels)
            if out != global_channels:
                raise ValueError(
                    f'GlobalStripeNeck: global_embed has out_channels={out}, '
                    f'global_channels is {global_channels}')
        # MMEngine's ModuleList, so that init_weights reaches the stripes.
        self.stripe_embeds = ModuleList([
            nn.Sequential(
                nn.Linear(in_channels, stripe_channels),
                nn.BatchNorm1d(stripe_channels)) for _ in range(num_stripes)
        ])

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Embed a feature map.

        Args:
            x (Tensor): Shape ``(B, C, H, W)``.

        Returns:
            tuple[Tensor, Tensor]: The global embedding ``(B, Dg)`` and the
            stripe embeddings ``(B, S, Dl)``, top stripe first.
        """
        if self.global_embed is None:
            global_feat = self.global_bn(self.global_fc(x.mean((2, 3))))
        else:
            global_feat = self.global_embed(x)
            if global_feat.shape[1] != self.global_channels:
                raise ValueError(
                    f'GlobalStripeNeck: global_embed gives '
                    f'{global_feat.shape[1]} channels, global_channels is '
                    f'{self.global_channels}')
        stripes = F.adaptive_avg_pool2d(x, (self.num_stripes, 1)).flatten(2)
        local_feat = torch.stack([
            embed(stripes[:, :, s]) for s, embed in enumerate(
                self.stripe_embeds)
        ], dim=1)
        return global_feat, local_feat
