"""Patch features: a patch generator and one embedding per patch (PAUL)."""
from typing import Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule, ModuleList

from mmreid_unsup.registry import MODELS


@MODELS.register_module()
class PatchNeck(BaseModule):
    """Generate ``S`` patches of a feature map and embed each one.

    The map goes through a :class:`PatchGenerator` (``S`` affine patches,
    equal horizontal stripes at initialisation); each patch map is embedded
    by its own head. The default head is PAUL's unsupervised one
    (``PatchNetUn``): global average pooling, then a 1x1 conv ``C -> D``
    and a BatchNorm, written here as ``Linear(C, D)`` + ``BatchNorm1d(D)``
    (the same function on a pooled map, and the same PyTorch default
    initialisation). ``patch_embed`` replaces it with any neck config that
    turns a ``(B, C, H, W)`` map into ``(B, D)``, built once per patch with
    its own weights, e.g. a pretrained ``OSNetFCNeck`` so that every patch
    starts from a trained embedding.

    The embeddings are held in MMEngine's :class:`~mmengine.model.ModuleList`
    (a ``BaseModule``), not ``torch.nn.ModuleList``: ``init_weights`` only
    descends into children that have an ``init_weights`` method, so a plain
    list in between would silently skip each embedding's own ``init_cfg``
    (e.g. a ``Pretrained`` one) and leave it random.

    Nothing is L2-normalised here; the model normalises each patch.

    Args:
        in_channels (int): ``C``. Defaults to 2048.
        num_patches (int): ``S``. Defaults to 6 (PAUL).
        out_channels (int): ``D`` of each patch embedding. Defaults to 256
            (PAUL).
        generator (dict): Config of the generator; ``in_channels`` and
            ``num_patches`` are filled in from the neck. Defaults to
            ``dict(type='PatchGenerator')``.
        patch_embed (dict, optional): A neck config used as the head of each
            patch instead of PAUL's (it must output ``out_channels``).
            Defaults to None.
        init_cfg (dict, optional): MMEngine init config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int = 2048,
                 num_patches: int = 6,
                 out_channels: int = 256,
                 generator: dict = dict(type='PatchGenerator'),
                 patch_embed: Optional[dict] = None,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        generator = dict(generator)
        for key, value in (('in_channels', in_channels), ('num_patches',
                                                          num_patches)):
            if generator.setdefault(key, value) != value:
                raise ValueError(
                    f'PatchNeck: generator {key}={generator[key]} differs '
                    f'from the neck\'s {key}={value}')
        self.in_channels = in_channels
        self.num_patches = num_patches
        self.out_channels = out_channels
        self.generator = MODELS.build(generator)
        if patch_embed is None:
            self.patch_embeds = ModuleList([
                nn.Sequential(
                    nn.AdaptiveAvgPool2d(1), nn.Flatten(1),
                    nn.Linear(in_channels, out_channels),
                    nn.BatchNorm1d(out_channels)) for _ in range(num_patches)
            ])
        else:
            self.patch_embeds = ModuleList(
                [MODELS.build(patch_embed) for _ in range(num_patches)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embed the patches of a map.

        Args:
            x (Tensor): ``(B, C, H, W)``.

        Returns:
            Tensor: ``(B, S, D)``, patch ``s`` at index ``s``.
        """
        patches = self.generator(x)
        feats = torch.stack(
            [embed(patches[:, s])
             for s, embed in enumerate(self.patch_embeds)],
            dim=1)
        if feats.shape[2] != self.out_channels:
            raise ValueError(
                f'PatchNeck: the patch embedding gives {feats.shape[2]} '
                f'channels, out_channels is {self.out_channels}')
        return feats
